"""Korean disaster text messages (재난문자) in the public feed: folded once per serial number, only
Seoul's, written as valid CAP 1.2 with their level as severity and their districts as geocodes,
gone from the feed a day after they were sent."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from uuid import uuid4

import pytest
from lxml import etree

from services.broadcast.public import PublicView, alert_document, build_feed, public_subjects, relayed_alert, to_bytes
from services.broadcast.public.disaster_messages import disaster_message_alert
from services.broadcast.public.mapping import KST
from shared.events.intake import DisasterMessageReceived
from tests.unit.broadcast.test_public_events import ATOM_NS, CAP_NS, FIXTURES, assert_valid_cap, national, parse

PAGES = {
    "page-1.json": FIXTURES.parent / "kr-disaster-messages" / "page-1.json",
    "hostile": Path(__file__).resolve().parents[2] / "data" / "kr-disaster-messages-hostile.json",
}
SENT = datetime(2026, 7, 14, 15, 0, tzinfo=KST)


def recorded(page: str) -> dict[int, DisasterMessageReceived]:
    """A fixture page's messages as intake records them (its own parser and command), by serial."""
    from services.intake.alerts import parse_page  # the tests may; broadcast itself never imports intake
    from services.intake.national import record_disaster_messages

    messages = parse_page(PAGES[page].read_bytes()).messages
    events = record_disaster_messages(messages)(SimpleNamespace(messages={}), SENT).events  # type: ignore[arg-type]
    return {event.serial: event for event in events if isinstance(event, DisasterMessageReceived)}


def message(
    serial: int = 271001,
    *,
    level: str = "urgent",
    disaster_type_ko: str = "호우",
    text: str = "[서울특별시] 호우경보 발효. 하천변 접근을 금지합니다.",
    regions: tuple[str, ...] = ("서울특별시 마포구",),
    district_codes: tuple[str, ...] = ("11440",),
    created_at: datetime = SENT,
) -> DisasterMessageReceived:
    stream = uuid4()
    return DisasterMessageReceived(
        originator_id=stream,
        originator_version=1,
        correlation_id=stream,
        serial=serial,
        created_at=created_at,
        text=text,
        level=level,
        disaster_type_ko=disaster_type_ko,
        regions=list(regions),
        district_codes=list(district_codes),
    )


def fold(*events: object) -> PublicView:
    view = PublicView()
    for sequence, event in enumerate(events, start=1):
        view.apply(event, sequence)  # type: ignore[arg-type]
    return view


def cap_of(received: DisasterMessageReceived) -> etree._Element:
    alert = parse(to_bytes(relayed_alert(disaster_message_alert(received))))
    assert_valid_cap(alert)
    return alert


def text(alert: etree._Element, path: str) -> str | None:
    return alert.findtext(path, namespaces=CAP_NS)


def geocodes(alert: etree._Element) -> list[tuple[str | None, str | None]]:
    return [
        (g.findtext("cap:valueName", namespaces=CAP_NS), g.findtext("cap:value", namespaces=CAP_NS))
        for g in alert.iterfind(".//cap:geocode", CAP_NS)
    ]


def test_the_public_follower_reads_disaster_messages_too() -> None:
    assert DisasterMessageReceived.subject_of() in public_subjects()


def test_a_disaster_message_is_a_valid_cap_alert_named_after_its_serial_number_in_korea_time() -> None:
    alert = cap_of(message(271001, created_at=datetime(2026, 7, 14, 6, 12, 40, tzinfo=KST)))

    assert text(alert, "cap:identifier") == "KR-CBS-271001"
    assert text(alert, "cap:sender") == "kr-disaster-messages@jikimi.invalid"
    assert text(alert, "cap:sent") == "2026-07-14T06:12:40+09:00"
    assert [text(alert, f"cap:{name}") for name in ("status", "msgType", "scope")] == ["Actual", "Alert", "Public"]
    assert [text(alert, f"cap:info/cap:{name}") for name in ("language", "category", "event")] == [
        "ko-KR",
        "Met",
        "호우",
    ]
    assert [text(alert, f"cap:info/cap:{name}") for name in ("urgency", "severity", "certainty")] == [
        "Immediate",
        "Severe",
        "Observed",
    ]
    assert text(alert, "cap:info/cap:expires") == "2026-07-15T06:12:40+09:00"
    assert (
        text(alert, "cap:info/cap:headline") == "[긴급재난문자] [서울특별시] 호우경보 발효. 하천변 접근을 금지합니다."
    )
    assert text(alert, "cap:info/cap:description") == "[서울특별시] 호우경보 발효. 하천변 접근을 금지합니다."
    assert text(alert, "cap:info/cap:area/cap:areaDesc") == "서울특별시 마포구"


def test_the_same_serial_number_always_gives_the_same_identifier() -> None:
    first, again = message(271001, text="첫 번째"), message(271001, text="다시")

    assert text(cap_of(first), "cap:identifier") == text(cap_of(again), "cap:identifier")


@pytest.mark.parametrize(
    ("level", "severity"),
    [("emergency", "Extreme"), ("urgent", "Severe"), ("safety", "Minor"), ("other", "Unknown")],
)
def test_the_level_of_a_message_is_its_severity(level: str, severity: str) -> None:
    assert text(cap_of(message(level=level)), "cap:info/cap:severity") == severity


@pytest.mark.parametrize(
    ("disaster_type_ko", "category"),
    [
        ("호우", "Met"),
        ("지진", "Geo"),
        ("화재", "Fire"),
        ("정전", "Infra"),
        ("교통통제", "Transport"),
        ("기타", "Other"),
    ],
)
def test_the_korean_disaster_type_chooses_the_category(disaster_type_ko: str, category: str) -> None:
    alert = cap_of(message(disaster_type_ko=disaster_type_ko))

    assert (text(alert, "cap:info/cap:category"), text(alert, "cap:info/cap:event")) == (category, disaster_type_ko)


def test_each_seoul_district_a_message_names_is_a_district_geocode() -> None:
    messages = recorded("page-1.json")

    dorimcheon = cap_of(messages[271003])
    whole_city = cap_of(messages[271001])

    assert geocodes(dorimcheon) == [("KR_SIG_CD", "11560"), ("KR_SIG_CD", "11590"), ("KR_SIG_CD", "11620")]
    assert (
        text(dorimcheon, "cap:info/cap:area/cap:areaDesc")
        == "서울특별시 관악구, 서울특별시 동작구, 서울특별시 영등포구"
    )
    assert len(geocodes(whole_city)) == 25


def test_a_district_code_that_is_not_seouls_is_not_a_geocode() -> None:
    alert = cap_of(message(district_codes=("11440", "26110")))

    assert geocodes(alert) == [("KR_SIG_CD", "11440")]


def test_a_message_is_folded_once_per_serial_number() -> None:
    first = message(271001)
    same_serial_other_stream = message(271001, text="다시 받은 같은 문자")
    view = fold(first, first, same_serial_other_stream)

    assert view.active_disaster_messages(SENT) == [first]


def test_a_message_for_no_seoul_district_is_not_relayed() -> None:
    messages = recorded("hostile")
    view = fold(*messages.values())

    assert 900002 not in {m.serial for m in view.active_disaster_messages(SENT)}
    assert alert_document(view, messages[900002].originator_id) is None
    assert fold(message(regions=("경기도 성남시",), district_codes=())).disaster_messages == {}


def test_the_fixture_page_is_in_the_feed_each_entry_valid_cap_newest_first() -> None:
    messages = recorded("page-1.json")
    view = fold(*messages.values())

    feed = parse(build_feed(view, datetime(2026, 7, 14, 8, 0, tzinfo=KST), base_url="http://jikimi.test"))

    entries = feed.findall("atom:entry", ATOM_NS)
    assert [e.findtext("atom:id", namespaces=ATOM_NS) for e in entries] == [
        f"urn:uuid:{messages[serial].originator_id}" for serial in (271003, 271002, 271001)
    ]
    for entry in entries:
        [alert] = entry.findall("atom:content/cap:alert", ATOM_NS)
        assert_valid_cap(alert)
        stream = (entry.findtext("atom:id", namespaces=ATOM_NS) or "").removeprefix("urn:uuid:")
        link = entry.find("atom:link[@rel='alternate']", ATOM_NS)
        assert link is not None and link.get("href") == f"http://jikimi.test/public/alerts/{stream}.cap"
    assert entries[1].findtext("atom:title", namespaces=ATOM_NS) == (
        "[안전안내문자] [강남구] 대치동 일대 도로 침수로 차량 통행을 통제합니다. 우회하여 주시기 바랍니다."
    )
    category = entries[1].find("atom:category", ATOM_NS)
    assert category is not None and category.get("term") == "Transport"


def test_disaster_messages_and_national_cap_alerts_share_the_feed_newest_first() -> None:
    kma = national()  # sent at 14:00 in Seoul
    later, earlier = message(1, created_at=SENT), message(2, created_at=SENT - timedelta(hours=2))
    view = fold(kma, later, earlier)

    feed = parse(build_feed(view, SENT))

    assert [e.findtext("atom:id", namespaces=ATOM_NS) for e in feed.findall("atom:entry", ATOM_NS)] == [
        f"urn:uuid:{event.originator_id}" for event in (later, kma, earlier)
    ]


def test_a_message_leaves_the_feed_a_day_after_it_was_sent_and_its_document_stays() -> None:
    received = message()
    view = fold(received)

    assert view.active_disaster_messages(SENT + timedelta(hours=23, minutes=59)) == [received]
    assert view.active_disaster_messages(SENT + timedelta(hours=24)) == []
    assert parse(build_feed(view, SENT + timedelta(hours=24))).findall("atom:entry", ATOM_NS) == []
    document = alert_document(view, received.originator_id)
    assert document is not None
    assert_valid_cap(document)


def test_hostile_message_texts_stay_text_and_every_document_stays_valid() -> None:
    messages = recorded("hostile")
    view = fold(*messages.values())

    data = build_feed(view, SENT)
    feed = parse(data)

    entries = feed.findall("atom:entry", ATOM_NS)
    assert len(entries) == 3  # the message for 성남시 alone is not Seoul's
    for entry in entries:
        [alert] = entry.findall("atom:content/cap:alert", ATOM_NS)
        assert_valid_cap(alert)
    assert feed.find(".//cap:evil", CAP_NS) is None
    assert b"<script>" not in data
    document = alert_document(view, messages[900001].originator_id)
    assert document is not None
    hostile = parse(to_bytes(document))
    assert text(hostile, "cap:info/cap:description") == (
        "[마포구] <script>alert(1)</script> & ]]> <![CDATA[x]]> </description><evil/>"
        " 망원동 화재, 대피하세요 &amp; &#x0;"
    )
    assert text(hostile, "cap:info/cap:event") == "화재</event><evil/>"
    assert text(hostile, "cap:info/cap:severity") == "Extreme"
    assert text(hostile, "cap:info/cap:area/cap:areaDesc") == "서울특별시 마포구, <evil/>&amp;"


def test_an_empty_message_of_an_unknown_level_is_still_a_valid_alert_for_its_seoul_district() -> None:
    alert = cap_of(recorded("hostile")[900003])

    assert (text(alert, "cap:info/cap:event"), text(alert, "cap:info/cap:severity")) == ("재난문자", "Unknown")
    assert text(alert, "cap:info/cap:headline") == "[재난문자] 재난문자"
    assert text(alert, "cap:info/cap:description") is None
    assert geocodes(alert) == [("KR_SIG_CD", "11140")]


def test_a_long_message_has_a_short_headline_and_its_whole_text_as_description() -> None:
    received = recorded("hostile")[900004]
    alert = cap_of(received)

    headline = text(alert, "cap:info/cap:headline") or ""
    assert headline.startswith("[긴급재난문자] [서울특별시] 매우 긴 안내문입니다. 공백과 줄바꿈이 많고")
    assert len(headline) <= 100 and headline.endswith("…")
    assert text(alert, "cap:info/cap:description") == received.text


def test_characters_xml_cannot_carry_are_dropped_even_a_lone_surrogate() -> None:
    alert = cap_of(message(text="대피\ud800하세요\x07", regions=("서울특별시 마포구\x1b",)))

    assert text(alert, "cap:info/cap:description") == "대피하세요"
    assert text(alert, "cap:info/cap:area/cap:areaDesc") == "서울특별시 마포구"
