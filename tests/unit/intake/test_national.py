"""National alerts: CAP alerts and disaster text messages, each stored once."""

from __future__ import annotations

from pathlib import Path

import httpx
from structlog.testing import capture_logs

from services.intake.alerts import parse_cap, parse_page
from services.intake.application import IntakeService
from services.intake.poller import DisasterMessagePoller, PollerSettings
from shared.events import CODEC
from shared.events.intake import CapAlertReceived, DisasterMessageReceived
from tests.unit.intake.conftest import FIXTURES, stored

HOSTILE = Path(__file__).resolve().parents[2] / "data" / "kr-disaster-messages-hostile.json"


def cap(name: str) -> bytes:
    return (FIXTURES / "cap" / name).read_bytes()


async def test_a_cap_alert_is_recorded_once_however_often_it_arrives(intake: IntakeService) -> None:
    alert = parse_cap(cap("earthquake.cap"))
    first, first_repeat = await intake.record_cap_alert(alert)
    again, repeat = await intake.record_cap_alert(alert)
    assert (first_repeat, repeat) == (False, True)
    assert again == first
    assert first.identifier == alert.identifier
    assert len([e for e in map(CODEC.decode, stored(intake)) if isinstance(e, CapAlertReceived)]) == 1


SEOUL_ALERT = """<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>{identifier}</identifier>
  <sender>seoul119@seoul.go.kr</sender>
  <sent>{sent}</sent>
  <status>Actual</status>
  <msgType>{msg_type}</msgType>
  <scope>Public</scope>
  {references}
  <info>
    <language>ko-KR</language>
    <category>Met</category>
    <event>호우경보</event>
    <urgency>Immediate</urgency>
    <severity>Severe</severity>
    <certainty>Observed</certainty>
    <headline>도림천 범람 위험</headline>
    <area><areaDesc>서울특별시 관악구</areaDesc></area>
    <area><areaDesc>도림천 주변</areaDesc><circle>37.5224,126.9103 1.0</circle></area>
  </info>
</alert>"""


def seoul_alert(identifier: str, sent: str, msg_type: str = "Alert", references: str = "") -> bytes:
    refs = f"<references>{references}</references>" if references else ""
    return SEOUL_ALERT.format(identifier=identifier, sent=sent, msg_type=msg_type, references=refs).encode()


async def test_an_update_points_at_the_alert_it_updates_and_both_name_their_districts(intake: IntakeService) -> None:
    original, _ = await intake.record_cap_alert(parse_cap(seoul_alert("SEOUL-1", "2026-07-14T07:00:00+09:00")))
    update, _ = await intake.record_cap_alert(
        parse_cap(
            seoul_alert(
                "SEOUL-2",
                "2026-07-14T08:00:00+09:00",
                "Update",
                "seoul119@seoul.go.kr,SEOUL-1,2026-07-14T07:00:00+09:00",
            )
        )
    )
    assert update.msg_type == "Update"
    assert update.references == [original.originator_id]
    # 관악구 by name; 영등포구, whose centre is inside the circle, by shape.
    assert original.district_codes == ["11560", "11620"]


def page(serials: list[int], text: str = "[서울특별시] 호우경보", bad: int | None = None) -> bytes:
    """A page of messages with these serials; the one numbered ``bad`` carries a lone surrogate escape."""
    lone_surrogate = "\\ud800"
    body = ",".join(
        f'{{"SN": {s}, "CRT_DT": "2026/07/14 06:12:40", "MSG_CN": "{text}{lone_surrogate if s == bad else ""}", '
        f'"RCPTN_RGN_NM": "서울특별시 강남구,서울특별시 서초구 ", "EMRG_STEP_NM": "긴급재난", "DST_SE_NM": "호우"}}'
        for s in serials
    )
    return (
        f'{{"header": {{"resultCode": "00", "resultMsg": "NORMAL SERVICE", "errorMsg": null}}, '
        f'"numOfRows": {len(serials)}, "pageNo": 1, "totalCount": {len(serials)}, "body": [{body}]}}'
    ).encode()


async def test_the_poller_records_each_disaster_message_once_and_survives_an_error_page(
    intake: IntakeService,
) -> None:
    pages = [page([1, 2]), (FIXTURES / "kr-disaster-messages" / "error-bad-key.json").read_bytes(), page([2, 3])]
    served: list[int] = []

    def answer(request: httpx.Request) -> httpx.Response:
        served.append(1)
        return httpx.Response(200, content=pages[len(served) - 1])

    poller = DisasterMessagePoller(
        PollerSettings(url="http://api.test/messages?serviceKey=SECRET"), intake.record_disaster_messages
    )
    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as client:
        assert [await poller.poll_once(client) for _ in pages] == [2, 0, 1]
    assert poller.failures == 1
    messages = [e for e in map(CODEC.decode, stored(intake)) if isinstance(e, DisasterMessageReceived)]
    assert sorted(m.serial for m in messages) == [1, 2, 3]
    assert messages[0].district_codes == ["11650", "11680"]


async def test_the_fixture_page_is_recorded_with_its_seoul_districts(intake: IntakeService) -> None:
    messages = parse_page((FIXTURES / "kr-disaster-messages" / "page-1.json").read_bytes()).messages
    assert await intake.record_disaster_messages(messages) == 3
    assert await intake.record_disaster_messages(messages) == 0
    recorded = {e.serial: e for e in map(CODEC.decode, stored(intake)) if isinstance(e, DisasterMessageReceived)}
    assert len(recorded[271001].district_codes) == 25
    assert recorded[271003].district_codes == ["11560", "11590", "11620"]


def poller_serving(pages: list[bytes], intake: IntakeService) -> tuple[DisasterMessagePoller, httpx.AsyncClient]:
    served: list[int] = []

    def answer(request: httpx.Request) -> httpx.Response:
        served.append(1)
        return httpx.Response(200, content=pages[len(served) - 1])

    poller = DisasterMessagePoller(
        PollerSettings(url="http://api.test/messages?serviceKey=SECRET"), intake.record_disaster_messages
    )
    return poller, httpx.AsyncClient(transport=httpx.MockTransport(answer))


async def test_a_message_with_a_lone_surrogate_is_skipped_and_the_rest_of_its_page_recorded(
    intake: IntakeService,
) -> None:
    bad_page = page([11, 12, 13], text="[마포구] 주민 홍길동 대피", bad=12)
    assert b'\\ud800"' in bad_page  # the escape itself, as the API would send it
    poller, client = poller_serving([bad_page, bad_page], intake)

    with capture_logs() as logs:
        async with client:
            assert [await poller.poll_once(client) for _ in range(2)] == [2, 0]

    assert poller.failures == 0
    recorded = [e for e in map(CODEC.decode, stored(intake)) if isinstance(e, DisasterMessageReceived)]
    assert sorted(m.serial for m in recorded) == [11, 13]
    skips = [entry for entry in logs if entry["event"] == "disaster_message_skipped"]
    assert [(s["serial"], s["reason"]) for s in skips] == [(12, "$.body[1].MSG_CN holds a lone surrogate escape")]
    assert not any("홍길동" in repr(entry) for entry in logs)


async def test_the_hostile_page_is_recorded_whole_by_the_poller(intake: IntakeService) -> None:
    poller, client = poller_serving([HOSTILE.read_bytes()], intake)

    async with client:
        assert await poller.poll_once(client) == 4

    recorded = {e.serial: e for e in map(CODEC.decode, stored(intake)) if isinstance(e, DisasterMessageReceived)}
    assert sorted(recorded) == [900001, 900002, 900003, 900004]
    assert "<script>alert(1)</script>" in recorded[900001].text
    assert recorded[900002].district_codes == []  # 성남시 is not Seoul
    assert len(recorded[900004].district_codes) == 25
