"""Experts hear of their invitations on their own channels and answer from the link; the
situation room hears of a seat nobody can take. Intake, community and broadcast as real
processes, and a local Telegram Bot API that records what it was sent."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID, uuid4

import httpx
import pytest

from jikimi.embedded import free_port
from shared.events.community import InvitationDelivered, MemberInvited, SeatUnfillable
from shared.settings import DatabaseSettings, NatsSettings
from tests.integration.pipeline import service_app
from tests.integration.services import ROOT, service_process
from tests.integration.test_community_assembly import community_events, report_and_wait_for_invitations, token

BOT_TOKEN, TELEGRAM_SECRET = "456:INVITETOKEN", "tg-webhook-secret"
OPERATORS_CHAT = "-1009999"


class TelegramApi(BaseHTTPRequestHandler):
    sent: list[dict[str, Any]] = []  # noqa: RUF012 -- shared by the server's handler instances

    def do_POST(self) -> None:  # http.server calls it by this name
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.sent.append({"path": self.path, "chat_id": str(body["chat_id"]), "text": body["text"]})
        answer = b'{"ok": true, "result": {"message_id": 5}}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *_: Any) -> None:
        pass


@pytest.fixture(scope="module")
def telegram() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), TelegramApi)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


BROADCAST_LOG = ROOT / "var" / "log" / "test-broadcast.log"
LOG_START = BROADCAST_LOG.stat().st_size if BROADCAST_LOG.exists() else 0


@pytest.fixture(scope="module")
def three_services(database: DatabaseSettings, nats_settings: NatsSettings, telegram: str) -> Iterator[tuple[str, str]]:
    env = {
        "JIKIMI_TELEGRAM_BOT_TOKEN": BOT_TOKEN,
        "JIKIMI_TELEGRAM_SECRET": TELEGRAM_SECRET,
        "JIKIMI_TELEGRAM_API": telegram,
        "JIKIMI_OPERATOR_CHANNELS": f"telegram:{OPERATORS_CHAT}",
    }
    with (
        service_process("community", database, nats_settings.url, env) as community,
        service_process("broadcast", database, nats_settings.url, env),
        service_process("intake", database, nats_settings.url, env) as intake,
    ):
        yield intake, community


def sent_to(chat_id: str, containing: str, until: float = 20.0) -> list[dict[str, Any]]:
    deadline = time.monotonic() + until
    while time.monotonic() < deadline:
        found = [m for m in TelegramApi.sent if m["chat_id"] == chat_id and containing in m["text"]]
        if found:
            return found
        time.sleep(0.1)
    return []


def wait_for(database: DatabaseSettings, incident_id: UUID, kind: type, until: float = 20.0) -> list[Any]:
    community = service_app("community", database)
    deadline = time.monotonic() + until
    while time.monotonic() < deadline:
        found = [e for e in community_events(community, incident_id) if isinstance(e, kind)]
        if found:
            return found
        time.sleep(0.1)
    return []


def invitation_link_for(client: httpx.Client, incident_id: UUID, until: float = 30.0) -> tuple[str, dict[str, Any]]:
    """The path of the first invitation link sent on Telegram for ``incident_id``, and what it opens."""
    deadline, seen = time.monotonic() + until, 0
    while time.monotonic() < deadline:
        for message in TelegramApi.sent[seen:]:
            seen += 1
            if link := re.search(r"https?://\S+/invitations/\S+", message["text"]):
                path = urlsplit(link.group(0)).path
                opened = client.get(path).json()
                if opened.get("incident_id") == str(incident_id):
                    assert message["path"] == f"/bot{BOT_TOKEN}/sendMessage"
                    return path, opened
        time.sleep(0.1)
    raise AssertionError("no invitation for the incident reached Telegram")


def test_an_invited_expert_gets_a_telegram_message_whose_link_accepts_the_seat_once(
    three_services: tuple[str, str], database: DatabaseSettings
) -> None:
    """Experts whose first channel is e-mail (not configured here) are reached on their next
    channel; an expert reachable on no channel is passed over for the next candidate."""
    intake_url, community_url = three_services
    incident_id, _ = report_and_wait_for_invitations(
        intake_url,
        service_app("community", database),
        "종로구 인사동 식당 주방에서 불이 났어요",
        (37.5740, 126.9850),
    )
    with httpx.Client(base_url=community_url, timeout=10) as client:
        path, opened = invitation_link_for(client, incident_id)
        expert_id = opened["expert_id"]
        assert (opened["seat_field"], opened["status"]) == ("fire", "invited")
        delivered = wait_for(database, incident_id, InvitationDelivered)
        assert any(d.expert_id == expert_id and d.channel == "telegram" for d in delivered)
        invited = community_events(service_app("community", database), incident_id)
        [invitation] = [e for e in invited if isinstance(e, MemberInvited) and e.expert_id == expert_id]
        assert "telegram" in [c.channel for c in invitation.contacts]

        accepted = client.post(f"{path}/accept")
        assert accepted.status_code == 200
        members = {m["expert_id"]: m["status"] for m in accepted.json()["members"]}
        assert members[expert_id] == "accepted"
        assert client.post(f"{path}/accept").status_code == 409  # single use
        assert client.post(f"{path[:-4]}XXXX/accept").status_code == 401  # a forged link
    written = BROADCAST_LOG.read_bytes()[LOG_START:]
    assert BOT_TOKEN.encode() not in written, "the bot token (in the Bot API's URL) reached the log"


def test_when_nobody_in_the_pool_can_take_a_seat_the_situation_room_is_told_on_its_channel(
    three_services: tuple[str, str], database: DatabaseSettings
) -> None:
    intake_url, community_url = three_services
    operator = token("operator", "alice")
    with httpx.Client(base_url=community_url, timeout=10) as client:
        heat = [
            e["id"]
            for e in client.get("/experts", params={"active": True}, headers=operator).json()
            if "heat_cold" in e["fields"]
        ]
        assert heat
        try:
            for expert_id in heat:
                marked = client.put(
                    f"/experts/{expert_id}/availability",
                    json={"available": False, "reason": "훈련 중"},
                    headers=operator,
                )
                assert marked.status_code == 200, marked.text
                assert marked.json()["on_call_now"] is False
            with httpx.Client(base_url=intake_url, timeout=10) as intake:
                report = intake.post(
                    "/reports",
                    json={
                        "text": "폭염에 노인정 어르신이 쓰러지셨어요 열사병 같아요",
                        "reporter": "heat-test",
                        "location": {"lat": 37.5172, "lon": 127.0473},
                    },
                ).json()
            incident_id = UUID(report["incident_id"])
            [unfillable] = wait_for(database, incident_id, SeatUnfillable)
            assert unfillable.seat_field == "heat_cold"
            assert {s.expert_id for s in unfillable.skipped} >= set(heat)
            assert all("unavailable" in s.reason and "훈련 중" in s.reason for s in unfillable.skipped)
            told = sent_to(OPERATORS_CHAT, str(incident_id))
            assert told, "the operators' chat heard nothing"
            assert "폭염·한파" in told[0]["text"]
        finally:
            for expert_id in heat:
                client.delete(f"/experts/{expert_id}/availability", headers=operator)
        back = client.get(f"/experts/{heat[0]}", headers=operator).json()
        assert back["availability"] is None


def telegram_update(chat_id: int, **message: Any) -> dict[str, Any]:
    return {
        "update_id": int(uuid4().int % 10**9),
        "message": {
            "message_id": int(uuid4().int % 10**6),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private"},
            "from": {"id": chat_id, "is_bot": False, "language_code": "ko"},
            **message,
        },
    }


def test_a_telegram_reporter_gets_the_link_to_their_incidents_room_and_it_opens_that_room(
    three_services: tuple[str, str], database: DatabaseSettings
) -> None:
    intake_url, community_url = three_services
    chat_id = 880000 + int(uuid4().int % 10_000)
    secret = {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}
    with httpx.Client(base_url=intake_url, timeout=10) as intake:
        said = intake.post(
            "/channels/telegram/webhook",
            json=telegram_update(chat_id, text="성북구 아파트 베란다에서 불이 나고 있어요"),
            headers=secret,
        )
        assert said.status_code == 200
        placed = intake.post(
            "/channels/telegram/webhook",
            json=telegram_update(chat_id, location={"latitude": 37.5894, "longitude": 127.0167}),
            headers=secret,
        )
        assert placed.status_code == 200
    [message] = sent_to(str(chat_id), "/rooms/", until=30)
    link = re.search(r"https?://\S+/rooms/\S+", message["text"])
    assert link is not None, message["text"]
    path = urlsplit(link.group(0)).path
    assert str(chat_id) not in path  # the link names a pseudonym, never the chat
    with httpx.Client(base_url=community_url, timeout=10) as client:
        room = client.get(path)
        assert room.status_code == 200, room.text
        assert room.json()["disaster_type"] == "fire"
        posted = client.post(f"{path}/messages", json={"text": "3층 베란다입니다"})
        assert posted.status_code == 201
        assert posted.json()["author"].startswith("citizen:")
        assert client.get(f"{path[:-3]}abc").status_code == 401
