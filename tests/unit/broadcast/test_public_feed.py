"""CAP documents and the Atom feed: valid against the OASIS schema, escaped, active alerts only."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from services.broadcast.public import PublicView, alert_document, build_feed, city_alert, relayed_alert, to_bytes
from shared.guides import get_guide
from tests.unit.broadcast.test_public_events import (
    AT,
    ATOM_NS,
    CAP_NS,
    FIXTURES,
    Story,
    assert_valid_cap,
    national,
    parse,
)

CAP_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+09:00$")
BROKEN_OR_HOSTILE = {"invalid.cap", "canada_errors.cap", "noaa_errors.cap", "xee.cap"}


def fold(*events: object) -> PublicView:
    view = PublicView()
    for sequence, event in enumerate(events, start=1):
        view.apply(event, sequence)  # type: ignore[arg-type]
    return view


def public_fire(**made_public: str) -> tuple[Story, PublicView]:
    story = Story("fire", "moderate")
    return story, fold(story.opened, story.made_public(**made_public))


def test_a_city_alert_is_a_valid_cap_document_in_korean_and_english() -> None:
    story, view = public_fire()

    alert = parse(to_bytes(city_alert(view.incidents[story.id], base_url="http://jikimi.test")))

    assert_valid_cap(alert)
    assert alert.findtext("cap:sender", namespaces=CAP_NS) == "jikimi@seoul.go.kr"
    assert alert.findtext("cap:msgType", namespaces=CAP_NS) == "Alert"
    identifier = alert.findtext("cap:identifier", namespaces=CAP_NS) or ""
    assert identifier and not re.search(r"[\s,<&]", identifier)
    assert CAP_TIME.match(alert.findtext("cap:sent", namespaces=CAP_NS) or "")
    ko, en = alert.findall("cap:info", CAP_NS)
    assert [i.findtext("cap:language", namespaces=CAP_NS) for i in (ko, en)] == ["ko-KR", "en-US"]
    assert [i.findtext("cap:event", namespaces=CAP_NS) for i in (ko, en)] == ["화재", "Fire"]
    assert ko.findtext("cap:category", namespaces=CAP_NS) == "Fire"
    assert (ko.findtext("cap:urgency", namespaces=CAP_NS), ko.findtext("cap:severity", namespaces=CAP_NS)) == (
        "Immediate",
        "Moderate",
    )
    assert ko.findtext("cap:area/cap:areaDesc", namespaces=CAP_NS) == "마포구"
    assert ko.findtext("cap:area/cap:geocode/cap:value", namespaces=CAP_NS) == "11440"
    assert get_guide("fire").ko.short in (ko.findtext("cap:instruction", namespaces=CAP_NS) or "")
    assert get_guide("fire").en.short in (en.findtext("cap:instruction", namespaces=CAP_NS) or "")
    assert "망원역 쪽으로 가지 마세요" in (ko.findtext("cap:instruction", namespaces=CAP_NS) or "")


def test_a_city_alert_carries_no_point_and_no_operator() -> None:
    story, view = public_fire()

    text = to_bytes(city_alert(view.incidents[story.id])).decode()

    assert "126.9142" not in text
    assert "37.5551" not in text
    assert "op-kim" not in text


def test_an_escalation_is_an_update_that_references_the_alert_before_it() -> None:
    story, view = public_fire()
    view.apply(story.escalated("extreme"), 10)

    alert = parse(to_bytes(city_alert(view.incidents[story.id])))

    assert_valid_cap(alert)
    assert alert.findtext("cap:msgType", namespaces=CAP_NS) == "Update"
    assert alert.findtext("cap:info/cap:severity", namespaces=CAP_NS) == "Extreme"
    [triple] = (alert.findtext("cap:references", namespaces=CAP_NS) or "").split(" ")
    sender, identifier, sent = triple.split(",")
    assert (sender, identifier.endswith("-1"), bool(CAP_TIME.match(sent))) == ("jikimi@seoul.go.kr", True, True)


def test_a_hostile_headline_stays_text_and_the_document_stays_valid() -> None:
    hostile = "<script>alert(1)</script> & ]]> \x01\x0b 불"
    story, view = public_fire(headline=hostile, instruction="<b>&amp;</b>")
    view.apply(story.updated("</description><evil/>", injured=1), 10)

    data = to_bytes(city_alert(view.incidents[story.id]))
    alert = parse(data)

    assert_valid_cap(alert)
    assert alert.findtext("cap:info/cap:headline", namespaces=CAP_NS) == "<script>alert(1)</script> & ]]>  불"
    assert (alert.findtext("cap:info/cap:description", namespaces=CAP_NS) or "").startswith("</description><evil/>")
    assert b"<script>" not in data
    assert alert.find(".//cap:evil", CAP_NS) is None


def test_an_incident_without_a_district_is_an_alert_for_seoul() -> None:
    story = Story("gas_leak", district=None)
    view = fold(story.opened, story.made_public())

    alert = parse(to_bytes(city_alert(view.incidents[story.id])))

    assert_valid_cap(alert)
    assert alert.findtext("cap:info/cap:area/cap:areaDesc", namespaces=CAP_NS) == "서울특별시"


def test_closing_a_public_incident_makes_its_alert_a_valid_cancel() -> None:
    story, view = public_fire()
    view.apply(story.closed(), 10)

    document = alert_document(view, story.id)

    assert document is not None
    alert = parse(to_bytes(document))
    assert_valid_cap(alert)
    assert alert.findtext("cap:msgType", namespaces=CAP_NS) == "Cancel"
    assert alert.findtext("cap:info/cap:responseType", namespaces=CAP_NS) == "AllClear"
    assert "010-1234-5678" not in to_bytes(document).decode()  # the close summary stays inside


def test_a_relayed_national_alert_is_valid_with_its_identity_and_korea_times() -> None:
    received = national()
    assert received.alert is not None

    alert = parse(to_bytes(relayed_alert(received.alert)))

    assert_valid_cap(alert)
    assert alert.findtext("cap:identifier", namespaces=CAP_NS) == "KMA-2026-0714-001"
    assert alert.findtext("cap:sent", namespaces=CAP_NS) == "2026-07-14T14:00:00+09:00"
    assert alert.findtext("cap:info/cap:expires", namespaces=CAP_NS) == "2026-07-14T20:00:00+09:00"
    polygon = alert.findtext("cap:info/cap:area/cap:polygon", namespaces=CAP_NS)
    assert polygon == "37.5,126.9 37.6,126.9 37.6,127 37.5,126.9"


@pytest.mark.parametrize(
    "name", sorted(p.name for p in FIXTURES.glob("*.cap") if p.name not in BROKEN_OR_HOSTILE), ids=str
)
def test_every_valid_fixture_intake_accepts_is_relayed_as_valid_cap(name: str) -> None:
    from services.intake.alerts import parse_cap  # the tests may; broadcast itself never imports intake

    alert = parse(to_bytes(relayed_alert(parse_cap((FIXTURES / name).read_bytes()))))

    assert_valid_cap(alert)


def test_the_feed_lists_public_incidents_and_active_national_alerts_each_with_valid_cap_inside() -> None:
    story, view = public_fire(headline="망원동 & 합정동 화재")
    received = national()
    view.apply(received, 10)

    feed = parse(build_feed(view, AT, base_url="http://jikimi.test"))

    entries = feed.findall("atom:entry", ATOM_NS)
    assert [e.findtext("atom:id", namespaces=ATOM_NS) for e in entries] == [
        f"urn:uuid:{story.id}",
        f"urn:uuid:{received.originator_id}",
    ]
    assert entries[0].findtext("atom:title", namespaces=ATOM_NS) == "망원동 & 합정동 화재"
    for entry in entries:
        content = entry.find("atom:content", ATOM_NS)
        assert content is not None and content.get("type") == "application/cap+xml"
        [alert] = content.findall("cap:alert", ATOM_NS)
        assert_valid_cap(alert)
        link = entry.find("atom:link[@rel='alternate']", ATOM_NS)
        assert link is not None and link.get("href", "").endswith(".cap")
    assert CAP_TIME.match(feed.findtext("atom:updated", namespaces=ATOM_NS) or "")


def test_closed_incidents_and_cancelled_expired_or_test_alerts_are_not_in_the_feed() -> None:
    story, view = public_fire()
    view.apply(story.closed(), 10)
    cancelled = national("KMA-1")
    for sequence, event in enumerate(
        (
            cancelled,
            national("KMA-2", msg_type="Cancel", references=[cancelled]),
            national("KMA-3", expires=AT - timedelta(minutes=1)),
            national("KMA-4", status="Test"),
            national("KMA-5", scope="Private"),
        ),
        start=11,
    ):
        view.apply(event, sequence)

    feed = parse(build_feed(view, AT))

    assert feed.findall("atom:entry", ATOM_NS) == []


def test_a_restricted_alert_has_no_public_document() -> None:
    restricted = national("KMA-9", scope="Restricted")
    view = fold(restricted)

    assert alert_document(view, restricted.originator_id) is None
