"""The intake service over real HTTP, on real PostgreSQL and JetStream."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import pytest

from shared.auth import Role, issue_token
from shared.settings import DatabaseSettings, NatsSettings
from tests.integration.services import SECRET_KEY, service_process

FIXTURES = Path(__file__).resolve().parents[4] / "shared" / "fixtures"
KAKAO_SECRET, TELEGRAM_SECRET, SMS_SECRET = "kakao-skill-secret", "telegram-secret", "sms-secret"


def fixture(relative: str) -> Any:
    return json.loads((FIXTURES / relative).read_text(encoding="utf-8"))


def token(role: Role, subject: str = "tester") -> str:
    return issue_token(SECRET_KEY.encode(), subject, role, ttl_s=600)


@pytest.fixture(scope="module")
def intake_url(database: DatabaseSettings, nats_settings: NatsSettings) -> Iterator[str]:
    env = {
        "JIKIMI_KAKAO_SECRET": KAKAO_SECRET,
        "JIKIMI_TELEGRAM_SECRET": TELEGRAM_SECRET,
        "JIKIMI_SMS_SECRET": SMS_SECRET,
    }
    with service_process("intake", database, nats_settings.url, env) as url:
        yield url


@pytest.fixture
def client(intake_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=intake_url, timeout=10) as c:
        yield c


@pytest.fixture
def operator(client: httpx.Client) -> httpx.Client:
    client.headers["Authorization"] = f"Bearer {token(Role.OPERATOR, 'alice')}"
    return client


def kakao_body(utterance: str, user: str) -> dict[str, Any]:
    body = fixture("kakao/fire-report.json")
    body["userRequest"]["utterance"] = utterance
    body["userRequest"]["user"]["id"] = user
    return body


def test_a_kakao_skill_request_gets_a_version_2_answer_with_receipt_and_guide(client: httpx.Client) -> None:
    body = kakao_body("마포구 합정동 빌라 3층에서 검은 연기가 나요 불난 것 같아요", f"kakao-{uuid4()}")
    response = client.post("/channels/kakao/skill", json=body, headers={"X-Jikimi-Skill-Secret": KAKAO_SECRET})
    assert response.status_code == 200
    answer = response.json()
    assert answer["version"] == "2.0"
    outputs, replies = answer["template"]["outputs"], answer["template"]["quickReplies"]
    assert 1 <= len(outputs) <= 3
    assert all(len(o["simpleText"]["text"]) <= 1000 for o in outputs)
    assert len(replies) <= 10
    assert all(len(r["label"]) <= 14 for r in replies)
    assert "접수번호 J" in outputs[0]["simpleText"]["text"]
    assert any("119" in o["simpleText"]["text"] for o in outputs[1:])


def test_a_kakao_request_without_the_skill_secret_is_refused(client: httpx.Client) -> None:
    response = client.post("/channels/kakao/skill", json=fixture("kakao/fire-report.json"))
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("application/problem+json")


def test_the_same_kakao_request_twice_gives_the_same_receipt(client: httpx.Client) -> None:
    body = kakao_body("가스 냄새가 심하게 나요 강남구 대치동", f"kakao-{uuid4()}")
    headers = {"X-Jikimi-Skill-Secret": KAKAO_SECRET}
    first = client.post("/channels/kakao/skill", json=body, headers=headers).json()
    again = client.post("/channels/kakao/skill", json=body, headers=headers).json()
    receipt = first["template"]["outputs"][0]["simpleText"]["text"].split("접수번호 ")[1].split("\n")[0]
    assert receipt in again["template"]["outputs"][0]["simpleText"]["text"]
    assert "이미 접수된" in again["template"]["outputs"][0]["simpleText"]["text"]


def test_telegram_checks_its_secret_token_and_answers_with_send_message(client: httpx.Client) -> None:
    update = fixture("telegram/photo-with-caption.json")
    update["update_id"] = int(uuid4().int % 10**9)
    wrong = client.post("/channels/telegram/webhook", json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "no"})
    assert wrong.status_code == 401
    right = client.post(
        "/channels/telegram/webhook", json=update, headers={"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}
    )
    assert right.status_code == 200
    assert right.json()["method"] == "sendMessage"
    assert right.json()["chat_id"] == 551234002


def test_a_report_with_a_wrong_field_type_is_refused_naming_the_field(client: httpx.Client) -> None:
    response = client.post("/reports", json={"text": 42})
    assert response.status_code == 400
    problem = response.json()
    assert problem["status"] == 400
    assert "text" in problem["detail"]


def test_a_report_with_an_unknown_field_or_bad_coordinates_is_refused(client: httpx.Client) -> None:
    assert "colour" in client.post("/reports", json={"text": "불", "colour": "red"}).json()["detail"]
    bad = client.post("/reports", json={"text": "불", "location": {"lat": 137.5, "lon": 127.0}})
    assert bad.status_code == 400
    assert "lat" in bad.json()["detail"]


def test_an_oversize_report_gets_413(client: httpx.Client) -> None:
    response = client.post(
        "/reports", content=b'{"text": "' + b"x" * 300_000 + b'"}', headers={"content-type": "application/json"}
    )
    assert response.status_code == 413


def test_a_repeated_idempotency_key_is_stored_once(client: httpx.Client, operator: httpx.Client) -> None:
    key = str(uuid4())
    body = {
        "text": "여의도 빌딩에서 연기가 나요 불이 났어요",
        "reporter": f"device-{key}",
        "location": {"lat": 37.5219, "lon": 126.9245},
    }
    first = client.post("/reports", json=body, headers={"Idempotency-Key": key})
    again = client.post("/reports", json=body, headers={"Idempotency-Key": key})
    assert (first.status_code, again.status_code) == (201, 201)
    assert first.json()["report_id"] == again.json()["report_id"]
    assert again.json()["status"] == "duplicate"
    incident = operator.get(f"/incidents/{first.json()['incident_id']}").json()
    assert [r["id"] for r in incident["reports"]].count(first.json()["report_id"]) == 1


def test_a_citizen_reads_their_reports_status_with_its_receipt_only(client: httpx.Client) -> None:
    created = client.post("/reports", json={"text": "불이 났어요 종로구 광화문", "reporter": str(uuid4())}).json()
    ok = client.get(f"/reports/{created['report_id']}/status", params={"receipt": created["receipt"]})
    assert ok.status_code == 200
    assert ok.json()["status"] == "in_incident"
    assert "text" not in ok.json() and "sender" not in ok.json()
    assert (
        client.get(f"/reports/{created['report_id']}/status", params={"receipt": "J000000-XXXXXX"}).status_code == 403
    )


def test_the_board_needs_an_operator(client: httpx.Client) -> None:
    assert client.get("/incidents").status_code == 401
    expert = {"Authorization": f"Bearer {token(Role.EXPERT)}"}
    assert client.get("/incidents", headers=expert).status_code == 403
    expired = issue_token(SECRET_KEY.encode(), "alice", Role.OPERATOR, ttl_s=-1)
    assert client.get("/incidents", headers={"Authorization": f"Bearer {expired}"}).status_code == 401


def test_an_operator_takes_an_incident_from_opening_to_closure(operator: httpx.Client) -> None:
    opened = operator.post(
        "/incidents",
        json={
            "disaster_type": "chemical_accident",
            "severity": "moderate",
            "title": "성수동 공장 화학물질 누출",
            "district_code": "11200",
        },
    )
    assert opened.status_code == 201
    incident = opened.json()
    assert incident["opened_by"] == {"kind": "operator", "id": "alice"}
    base = f"/incidents/{incident['id']}"
    assert operator.post(f"{base}/escalate", json={"severity": "minor"}).status_code == 422
    assert (
        operator.post(f"{base}/escalate", json={"severity": "severe", "reason": "spreading"}).json()["severity"]
        == "severe"
    )
    assert (
        operator.post(f"{base}/reclassify", json={"disaster_type": "explosion", "severity": "extreme"}).status_code
        == 200
    )
    updated = operator.post(f"{base}/updates", json={"text": "2 injured, evacuating", "casualties_injured": 2})
    assert updated.json()["updates"][0]["casualties_injured"] == 2
    assert operator.post(f"{base}/public", json={"headline": "성동구 폭발"}).json()["public"] is True
    listed = operator.get("/incidents", params={"district": "11200", "type": "explosion"}).json()
    assert incident["id"] in [i["id"] for i in listed]
    assert operator.post(f"{base}/close", json={"outcome": "resolved"}).json()["status"] == "closed"
    again = operator.post(f"{base}/updates", json={"text": "late"})
    assert again.status_code == 409
    assert operator.get(f"/incidents/{uuid4()}").status_code == 404


def test_an_operators_open_with_the_same_idempotency_key_is_one_incident(operator: httpx.Client) -> None:
    body = {"disaster_type": "fire", "severity": "moderate", "title": "test", "district_code": "11110"}
    key = {"Idempotency-Key": str(uuid4())}
    assert (
        operator.post("/incidents", json=body, headers=key).json()["id"]
        == operator.post("/incidents", json=body, headers=key).json()["id"]
    )


def test_openapi_lists_the_routes(client: httpx.Client) -> None:
    paths = client.get("/schema").json()["paths"]
    for path in ("/channels/kakao/skill", "/channels/telegram/webhook", "/channels/sms", "/reports", "/incidents"):
        assert path in paths


def cap_fixture(name: str) -> bytes:
    return (FIXTURES / "cap" / name).read_bytes()


def test_a_valid_cap_alert_is_recorded_once(operator: httpx.Client) -> None:
    headers = {"content-type": "application/xml"}
    first = operator.post("/alerts/cap", content=cap_fixture("thunderstorm.cap"), headers=headers)
    again = operator.post("/alerts/cap", content=cap_fixture("thunderstorm.cap"), headers=headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert again.json()["duplicate"] is True
    assert operator.get(f"/alerts/cap/{first.json()['id']}").json()["received"]["identifier"]


def test_an_invalid_cap_alert_gets_422_naming_what_is_wrong(operator: httpx.Client) -> None:
    response = operator.post("/alerts/cap", content=cap_fixture("invalid.cap"))
    assert response.status_code == 422
    problem = response.json()
    assert any(error["field"] == "alert/scope" for error in problem["errors"])
    assert "scope" in problem["detail"]


def test_an_xml_external_entity_attack_is_refused_without_reading_anything(operator: httpx.Client) -> None:
    response = operator.post("/alerts/cap", content=cap_fixture("xee.cap"))
    assert response.status_code == 422
    assert "DOCTYPE" in response.json()["detail"]
    assert "root:" not in response.text  # /etc/passwd's first line never comes back


def test_a_non_utf8_cap_alert_keeps_its_text(operator: httpx.Client) -> None:
    response = operator.post("/alerts/cap", content=cap_fixture("earthquake-iso8859-1.cap"))
    assert response.status_code in {200, 201}


def test_cap_alerts_need_an_operator(client: httpx.Client) -> None:
    assert client.post("/alerts/cap", content=cap_fixture("thunderstorm.cap")).status_code == 401


async def test_a_report_reaches_the_shared_stream_with_its_position(
    intake_url: str, nc: Any, nats_settings: NatsSettings
) -> None:
    from shared.events import CODEC
    from shared.events.intake import ReportReceived

    async with httpx.AsyncClient(base_url=intake_url) as client:
        created = (await client.post("/reports", json={"text": "불이 났어요 종로구", "reporter": str(uuid4())})).json()
    js = nc.jetstream()
    sub = await js.subscribe("jikimi.intake.report_received", ordered_consumer=True, stream=nats_settings.stream)
    found: list[ReportReceived] = []

    async def drain() -> None:
        while True:
            try:
                msg = await sub.next_msg(timeout=0.2)
            except Exception:
                return
            event = CODEC.decode(msg.data)
            if isinstance(event, ReportReceived) and str(event.originator_id) == created["report_id"]:
                found.append(event)

    for _ in range(50):
        await drain()
        if found:
            break
    await sub.unsubscribe()
    assert len(found) == 1
    assert found[0].position > 0
    assert found[0].service == "intake"
