"""The public reads what operators make public and the national alerts intake receives: intake and
broadcast as real processes, the public's routes asked without a token."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import pytest
from lxml import etree

from shared.auth import Role, issue_token
from shared.settings import DatabaseSettings, NatsSettings
from tests.integration.services import SECRET_KEY, service_process

FIXTURES = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "cap"
NS = {"atom": "http://www.w3.org/2005/Atom", "cap": "urn:oasis:names:tc:emergency:cap:1.2"}
_SAFE = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
SCHEMA = etree.XMLSchema(etree.parse(str(FIXTURES / "cap12.xsd"), _SAFE))
OPERATOR = {"Authorization": f"Bearer {issue_token(SECRET_KEY.encode(), 'public-desk', Role.OPERATOR, ttl_s=3600)}"}


@pytest.fixture(scope="module")
def intake(database: DatabaseSettings, nats_settings: NatsSettings) -> Iterator[str]:
    with service_process("intake", database, nats_settings.url) as url:
        yield url


@pytest.fixture(scope="module")
def broadcast(database: DatabaseSettings, nats_settings: NatsSettings) -> Iterator[str]:
    with service_process("broadcast", database, nats_settings.url) as url:
        yield url


def eventually(check: Callable[[], Any], until: float = 20.0) -> Any:
    """``check()``'s first truthy answer, asked again until ``until`` seconds have passed."""
    deadline = time.monotonic() + until
    while True:
        answer = check()
        if answer or time.monotonic() > deadline:
            return answer
        time.sleep(0.1)


def feed_entries(broadcast: str) -> dict[str, etree._Element]:
    """The feed's entries by id, each entry's embedded CAP alert checked against the schema."""
    answer = httpx.get(f"{broadcast}/public/alerts.atom", timeout=10)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/atom+xml")
    feed = etree.fromstring(answer.content, _SAFE)
    entries = {}
    for entry in feed.findall("atom:entry", NS):
        [alert] = entry.findall("atom:content/cap:alert", NS)
        assert SCHEMA.validate(alert), SCHEMA.error_log
        entries[entry.findtext("atom:id", namespaces=NS) or ""] = entry
    return entries


def public_incidents(broadcast: str, **query: str) -> list[dict[str, Any]]:
    answer = httpx.get(f"{broadcast}/public/incidents", params=query, timeout=10)
    assert answer.status_code == 200
    found: list[dict[str, Any]] = answer.json()
    return found


def korean_alert(identifier: str) -> bytes:
    """A CAP 1.2 heavy-rain warning for Mapo-gu that lasts a day from now."""
    now = datetime.now(UTC).astimezone().replace(microsecond=0)
    sent, expires = now.isoformat(), (now + timedelta(days=1)).isoformat()
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>{identifier}</identifier>
  <sender>kma@korea.kr</sender>
  <sent>{sent}</sent>
  <status>Actual</status>
  <msgType>Alert</msgType>
  <scope>Public</scope>
  <info>
    <language>ko-KR</language>
    <category>Met</category>
    <event>호우경보</event>
    <urgency>Expected</urgency>
    <severity>Severe</severity>
    <certainty>Likely</certainty>
    <expires>{expires}</expires>
    <headline>마포구 호우경보 &amp; 하천 통제</headline>
    <instruction>하천 주변에 가지 마세요.</instruction>
    <area><areaDesc>서울특별시 마포구</areaDesc></area>
  </info>
</alert>""".encode()


# First in the module, so that its broadcast processes are the only ones running (the module's own
# starts with the next test): every process holds database connections.
def test_a_restarted_broadcast_still_has_the_alert_in_its_feed(
    intake: str, database: DatabaseSettings, nats_settings: NatsSettings
) -> None:
    identifier = f"KMA-{uuid4().hex[:12]}"
    with service_process("broadcast", database, nats_settings.url) as before:
        posted = httpx.post(
            f"{intake}/alerts/cap",
            content=korean_alert(identifier),
            headers={**OPERATOR, "Content-Type": "application/cap+xml"},
            timeout=10,
        )
        alert_id = posted.json()["id"]
        assert eventually(lambda: f"urn:uuid:{alert_id}" in feed_entries(before))

    with service_process("broadcast", database, nats_settings.url) as after:
        # The routes answer once the view has read the stream, so the first answer is complete.
        assert f"urn:uuid:{alert_id}" in feed_entries(after)


def test_an_incident_an_operator_makes_public_is_listed_and_in_the_feed_until_it_closes(
    intake: str, broadcast: str
) -> None:
    with httpx.Client(base_url=intake, headers=OPERATOR, timeout=10) as client:
        incident = client.post(
            "/incidents",
            json={
                "disaster_type": "fire",
                "severity": "severe",
                "title": "망원동 상가 화재",
                "district_code": "11440",
                "point": {"lat": 37.5561, "lon": 126.9101},
            },
        ).json()
        made_public = client.post(
            f"/incidents/{incident['id']}/public",
            json={"headline": "망원동 상가 화재 <대피>", "instruction": "망원시장 쪽 통행을 피하세요"},
        )
        assert made_public.status_code == 200

        listed = eventually(
            lambda: [i for i in public_incidents(broadcast, district="11440", type="fire") if i["id"] == incident["id"]]
        )
        [shown] = listed
        assert (shown["headline"], shown["severity"], shown["guide"]) == ("망원동 상가 화재 <대피>", "severe", "fire")
        assert shown["place"]["district_code"] == "11440"
        assert "37.5561" not in httpx.get(f"{broadcast}/public/incidents", timeout=10).text
        assert "public-desk" not in httpx.get(f"{broadcast}/public/incidents", timeout=10).text
        entry = feed_entries(broadcast)[f"urn:uuid:{incident['id']}"]
        assert entry.findtext("atom:title", namespaces=NS) == "망원동 상가 화재 <대피>"
        cap = httpx.get(f"{broadcast}/public/alerts/{incident['id']}.cap", timeout=10)
        assert cap.headers["content-type"].startswith("application/cap+xml")
        assert SCHEMA.validate(etree.fromstring(cap.content, _SAFE))

        assert client.post(f"/incidents/{incident['id']}/close", json={"outcome": "resolved"}).status_code == 200

    assert eventually(lambda: incident["id"] not in {i["id"] for i in public_incidents(broadcast)})
    assert f"urn:uuid:{incident['id']}" not in feed_entries(broadcast)
    cancel = etree.fromstring(httpx.get(f"{broadcast}/public/alerts/{incident['id']}.cap", timeout=10).content, _SAFE)
    assert SCHEMA.validate(cancel)
    assert cancel.findtext("cap:msgType", namespaces=NS) == "Cancel"


def test_a_cap_alert_posted_to_intake_is_relayed_in_the_feed(intake: str, broadcast: str) -> None:
    identifier = f"KMA-{uuid4().hex[:12]}"
    posted = httpx.post(
        f"{intake}/alerts/cap",
        content=korean_alert(identifier),
        headers={**OPERATOR, "Content-Type": "application/cap+xml"},
        timeout=10,
    )
    assert posted.status_code == 201, posted.text
    alert_id = posted.json()["id"]

    assert eventually(lambda: f"urn:uuid:{alert_id}" in feed_entries(broadcast))

    entry = feed_entries(broadcast)[f"urn:uuid:{alert_id}"]
    assert entry.findtext("atom:content/cap:alert/cap:identifier", namespaces=NS) == identifier
    assert entry.findtext("atom:title", namespaces=NS) == "마포구 호우경보 & 하천 통제"
