"""Korean disaster text messages reach the public feed: intake's real poller reads a local stand-in
for the disaster-text-message API, records each message, and the real broadcast process relays
Seoul's as CAP 1.2 alerts in its Atom feed and at their ``.cap`` addresses."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import msgspec
import pytest
from lxml import etree

from jikimi.embedded import free_port
from shared.settings import DatabaseSettings, NatsSettings
from tests.integration.services import service_process
from tests.integration.test_public import _SAFE, NS, SCHEMA, eventually, feed_entries

KST = timezone(timedelta(hours=9))
HOSTILE = "[마포구] <script>alert(1)</script> & ]]> </description><evil/>\u0001 망원동 화재, 대피하세요"


def raw_message(serial: int, minutes_ago: int, text: str, *, regions: str, level: str, kind: str) -> dict[str, Any]:
    """One message as the API writes it: Korea time, regions comma-separated with stray spaces."""
    created = datetime.now(UTC).astimezone(KST) - timedelta(minutes=minutes_ago)
    return {
        "SN": serial,
        "CRT_DT": created.strftime("%Y/%m/%d %H:%M:%S"),
        "MSG_CN": text,
        "RCPTN_RGN_NM": regions,
        "EMRG_STEP_NM": level,
        "DST_SE_NM": kind,
        "REG_YMD": created.strftime("%Y-%m-%d"),
        "MDFCN_YMD": created.strftime("%Y-%m-%d"),
    }


def page() -> bytes:
    """A page with a heavy-rain message for three districts, a hostile one for Mapo, one for a
    city in Gyeonggi only, and one sent two days ago."""
    body = [
        raw_message(
            271003,
            5,
            "[서울특별시] 도림천 수위 상승으로 인근 주민은 즉시 높은 곳으로 대피하시기 바랍니다.",
            regions="서울특별시 관악구,서울특별시 동작구,서울특별시 영등포구 ",
            level="긴급재난",
            kind="홍수",
        ),
        raw_message(271004, 3, HOSTILE, regions="서울특별시 마포구", level="위급재난", kind="화재"),
        raw_message(271005, 2, "[성남시] 분당구 일대 정전.", regions="경기도 성남시", level="안전안내", kind="정전"),
        raw_message(
            270001, 2 * 24 * 60, "[서울특별시] 폭염경보 발효.", regions="서울특별시 전체", level="안전안내", kind="폭염"
        ),
    ]
    header = {"resultCode": "00", "resultMsg": "NORMAL SERVICE", "errorMsg": None}
    return msgspec.json.encode({"header": header, "numOfRows": 4, "pageNo": 1, "totalCount": 4, "body": body})


@dataclass
class MessagesApi:
    url: str
    requests: int = 0


@pytest.fixture(scope="module")
def messages_api() -> Iterator[MessagesApi]:
    """The disaster-text-message API, served from this process: every request gets ``page()``."""
    answer = page()
    api = MessagesApi("")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            api.requests += 1
            self.send_response(200)
            self.send_header("Content-Type", "application/json;charset=UTF-8")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    api.url = f"http://127.0.0.1:{server.server_port}/DisasterMsg?serviceKey=TEST&pageNo=1&numOfRows=4"
    try:
        yield api
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def intake(database: DatabaseSettings, nats_settings: NatsSettings, messages_api: MessagesApi) -> Iterator[str]:
    env = {"JIKIMI_KR_MESSAGES_URL": messages_api.url, "JIKIMI_KR_MESSAGES_INTERVAL_S": "0.5"}
    with service_process("intake", database, nats_settings.url, extra_env=env) as url:
        yield url


@pytest.fixture(scope="module")
def broadcast(database: DatabaseSettings, nats_settings: NatsSettings) -> Iterator[str]:
    with service_process("broadcast", database, nats_settings.url) as url:
        yield url


def disaster_entries(broadcast: str) -> dict[str, etree._Element]:
    """The feed's entries that carry a disaster text message, by CAP identifier."""
    found = {}
    for entry in feed_entries(broadcast).values():
        identifier = entry.findtext("atom:content/cap:alert/cap:identifier", namespaces=NS) or ""
        if identifier.startswith("KR-CBS-"):
            found[identifier] = entry
    return found


def test_seouls_disaster_messages_polled_by_intake_are_in_the_public_feed_as_valid_cap(
    intake: str, broadcast: str
) -> None:
    entries = eventually(lambda: len(found := disaster_entries(broadcast)) == 2 and found)

    assert sorted(entries or {}) == ["KR-CBS-271003", "KR-CBS-271004"]  # not 성남시's, not the expired one
    flood = entries["KR-CBS-271003"].find("atom:content/cap:alert", NS)
    assert flood is not None
    assert flood.findtext("cap:info/cap:severity", namespaces=NS) == "Severe"
    assert flood.findtext("cap:info/cap:category", namespaces=NS) == "Met"
    assert [g.findtext("cap:value", namespaces=NS) for g in flood.iterfind(".//cap:geocode", NS)] == [
        "11560",
        "11590",
        "11620",
    ]
    assert (flood.findtext("cap:sent", namespaces=NS) or "").endswith("+09:00")

    fire = entries["KR-CBS-271004"]
    link = fire.find("atom:link[@rel='alternate']", NS)
    assert link is not None
    document = httpx.get(link.get("href", ""), timeout=10)
    assert document.status_code == 200
    assert document.headers["content-type"].startswith("application/cap+xml")
    alert = etree.fromstring(document.content, _SAFE)
    assert SCHEMA.validate(alert), SCHEMA.error_log
    assert alert.findtext("cap:identifier", namespaces=NS) == "KR-CBS-271004"
    assert alert.findtext("cap:info/cap:severity", namespaces=NS) == "Extreme"
    assert alert.findtext("cap:info/cap:description", namespaces=NS) == HOSTILE.replace("\u0001", "")
    assert alert.find(".//cap:evil", NS) is None


def test_a_message_polled_again_is_in_the_feed_once(intake: str, broadcast: str, messages_api: MessagesApi) -> None:
    assert eventually(lambda: len(disaster_entries(broadcast)) == 2)
    seen = messages_api.requests

    # The poller keeps asking every half second and gets the same page: still one entry per serial.
    assert eventually(lambda: messages_api.requests >= seen + 3)
    feed = httpx.get(f"{broadcast}/public/alerts.atom", timeout=10).content
    identifiers = etree.fromstring(feed, _SAFE).findall("atom:entry/atom:content/cap:alert/cap:identifier", NS)
    assert sorted(i.text or "" for i in identifiers if (i.text or "").startswith("KR-CBS-")) == [
        "KR-CBS-271003",
        "KR-CBS-271004",
    ]
