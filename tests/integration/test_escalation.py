"""An invitation nobody acknowledges in time goes on to the expert's next channel; one the expert
acknowledged (by answering it, or on their live stream) stays where it is. Intake, community and
broadcast as real processes, a local Telegram Bot API that records what it was sent and a real
SMTP server (aiosmtpd); the time to acknowledge is cut to seconds by its setting.

Only experts registered here can take the heat wave's seat (the seed pool's heat experts are
marked unavailable), each reached on Telegram first and by e-mail next, each at most once
(``max_concurrent`` 1), so every report below invites exactly the expert registered for it."""

from __future__ import annotations

import email.message
import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar
from uuid import UUID, uuid4

import httpx
import pytest
from aiosmtpd.controller import Controller

from jikimi.embedded import free_port
from shared.eventlog.application import ServiceApplication
from shared.events import CODEC, Event
from shared.events.broadcast import DeliveryAcknowledged, DeliveryDelivered, DeliveryEscalated, DeliveryRequested
from shared.settings import DatabaseSettings, NatsSettings
from tests.integration.pipeline import service_app
from tests.integration.services import service_process
from tests.integration.test_community_assembly import token
from tests.integration.test_expert_pool_api import newcomer
from tests.integration.test_webhook_email import Mailbox

BOT_TOKEN = "789:ESCALATIONTOKEN"
ACK_WITHIN_S = 10  # production: a third of the answer window (here 30 min), at least a minute
WAIT_S = 60.0  # a bound on waiting for what must happen, not a measure: a loaded machine may take its time
HEAT = "폭염에 노인정 어르신이 쓰러지셨어요 열사병 같아요"
# Four districts (code, a point in it): one report each, so no report joins another's incident.
DOBONG, GANGSEO = ("11320", (37.6688, 127.0471)), ("11500", (37.5509, 126.8495))
SONGPA, GWANAK = ("11710", (37.5145, 127.1059)), ("11620", (37.4784, 126.9516))
INVITATION = re.compile(r"https?://\S+/invitations/\S+")

T = TypeVar("T")


class TelegramApi(BaseHTTPRequestHandler):
    sent: list[dict[str, str]] = []  # noqa: RUF012 -- shared by the server's handler instances

    def do_POST(self) -> None:  # http.server calls it by this name
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.sent.append({"chat_id": str(body["chat_id"]), "text": body["text"]})
        answer = b'{"ok": true, "result": {"message_id": 9}}'
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


@pytest.fixture(scope="module")
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    handler = Mailbox()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield handler, controller.port
    controller.stop()


@pytest.fixture(scope="module")
def services(
    database: DatabaseSettings, nats_settings: NatsSettings, telegram: str, mailbox: tuple[Mailbox, int]
) -> Iterator[dict[str, str]]:
    """The three services' URLs, with nobody but the experts registered here to take a heat seat."""
    with service_process("community", database, nats_settings.url) as community:
        broadcast_env = {
            "JIKIMI_TELEGRAM_BOT_TOKEN": BOT_TOKEN,
            "JIKIMI_TELEGRAM_API": telegram,
            "JIKIMI_SMTP_HOST": "127.0.0.1",
            "JIKIMI_SMTP_PORT": str(mailbox[1]),
            "JIKIMI_SMTP_FROM": "지키미 <noreply@jikimi.example>",
            "JIKIMI_SMTP_STARTTLS": "0",
            "JIKIMI_INVITATION_ACK_WITHIN_S": str(ACK_WITHIN_S),
            "JIKIMI_PUBLIC_URL": community,
        }
        with (
            service_process("broadcast", database, nats_settings.url, broadcast_env) as broadcast,
            service_process("intake", database, nats_settings.url) as intake,
            httpx.Client(base_url=community, timeout=10) as client,
        ):
            operator = token("operator", "alice")
            for expert in client.get("/experts", params={"active": True}, headers=operator).json():
                if "heat_cold" in expert["fields"]:
                    away = {"available": False, "reason": "escalation tests"}
                    marked = client.put(f"/experts/{expert['id']}/availability", json=away, headers=operator)
                    assert marked.status_code == 200, marked.text
            yield {"intake": intake, "community": community, "broadcast": broadcast}


def eventually(find: Callable[[], T], what: str) -> T:
    deadline = time.monotonic() + WAIT_S
    while not (found := find()):
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {WAIT_S:g} s: {what}")
        time.sleep(0.1)
    return found


def telegrams_to(chat_id: str) -> list[str]:
    return [m["text"] for m in TelegramApi.sent if m["chat_id"] == chat_id]


def mails_to(box: Mailbox, address: str) -> list[email.message.EmailMessage]:
    return [m for m in box.received if m["To"] == address]


def invite_newcomer(
    services: dict[str, str], expert_id: str, district: tuple[str, tuple[float, float]]
) -> tuple[UUID, str]:
    """Register ``expert_id`` for heat seats (Telegram first, e-mail next) and report a heat
    casualty in ``district``: the incident, and the invitation's text as it reached Telegram."""
    district_code, where = district
    profile = newcomer(
        expert_id,
        fields=["heat_cold"],
        lat=where[0],
        lon=where[1],
        channels=[
            {"channel": "telegram", "address": chat_of(expert_id)},
            {"channel": "email", "address": mail_of(expert_id)},
        ],
        max_concurrent=1,  # once invited, never the candidate of a later report here
        district_code=district_code,
    )
    with httpx.Client(timeout=10) as client:
        added = client.post(f"{services['community']}/experts", json=profile, headers=token("admin", "root"))
        assert added.status_code == 201, added.text
        report = client.post(
            f"{services['intake']}/reports",
            json={"text": HEAT, "reporter": str(uuid4()), "location": {"lat": where[0], "lon": where[1]}},
        )
        assert report.status_code in {200, 201}, report.text
    incident_id = UUID(report.json()["incident_id"])
    [text, *_] = eventually(lambda: telegrams_to(chat_of(expert_id)), f"{expert_id}'s invitation on Telegram")
    return incident_id, text


def chat_of(expert_id: str) -> str:
    return f"77100{expert_id[-2:]}"


def mail_of(expert_id: str) -> str:
    return f"{expert_id.lower()}@jikimi.example"


@pytest.fixture(scope="module")
def broadcast_log(database: DatabaseSettings) -> ServiceApplication:
    return service_app("broadcast", database)


def delivery_of(broadcast: ServiceApplication, incident_id: UUID, expert_id: str) -> list[Event]:
    """Every event of the expert's invitation delivery for the incident, in broadcast's log."""
    events = [CODEC.decode(n.state) for n in broadcast.recorder.select_notifications(0, 1_000_000)]
    [requested] = [
        e
        for e in events
        if isinstance(e, DeliveryRequested)
        and e.incident_id == incident_id
        and e.recipient == expert_id
        and e.kind == "invitation"
    ]
    return [e for e in events if e.originator_id == requested.originator_id]


def opened(link: str) -> dict[str, Any]:
    with httpx.Client(timeout=10) as client:
        answer = client.get(link)
        assert answer.status_code == 200, answer.text
        return dict(answer.json())


def test_an_expert_who_does_not_acknowledge_in_time_gets_the_invitation_by_email_too(
    services: dict[str, str], broadcast_log: ServiceApplication, mailbox: tuple[Mailbox, int]
) -> None:
    box, _ = mailbox
    incident_id, text = invite_newcomer(services, "EXP-ESC01", DOBONG)
    assert INVITATION.search(text), text

    [mail] = eventually(lambda: mails_to(box, mail_of("EXP-ESC01")), "the invitation by e-mail")
    assert mail["Subject"] == "[지키미] 재난 대응 전문가 참여 요청"
    link = INVITATION.search(mail.get_content())
    assert link is not None, mail.get_content()
    invitation = opened(link.group(0))
    assert (invitation["incident_id"], invitation["expert_id"]) == (str(incident_id), "EXP-ESC01")
    assert invitation["status"] == "invited"

    events = delivery_of(broadcast_log, incident_id, "EXP-ESC01")
    [escalated] = [e for e in events if isinstance(e, DeliveryEscalated)]
    assert (escalated.channel, escalated.next_channel) == ("telegram", "email")
    delivered = [e for e in events if isinstance(e, DeliveryDelivered)]
    assert [d.channel for d in delivered] == ["telegram", "email"]
    waited = (escalated.recorded_at - delivered[0].recorded_at).total_seconds()
    assert waited >= ACK_WITHIN_S, f"escalated {waited:.1f} s after delivery, before its {ACK_WITHIN_S} s"
    assert len(telegrams_to(chat_of("EXP-ESC01"))) == 1  # not sent again where it was delivered


def test_experts_who_acknowledge_in_time_by_accepting_or_on_their_live_stream_are_not_escalated(
    services: dict[str, str], broadcast_log: ServiceApplication, mailbox: tuple[Mailbox, int]
) -> None:
    """A third expert, invited after both acknowledged and acknowledging nothing, is the witness:
    once their invitation has gone on to e-mail, the time of the first two has passed as well."""
    box, _ = mailbox
    accepted_incident, text = invite_newcomer(services, "EXP-ESC02", GANGSEO)
    link = INVITATION.search(text)
    assert link is not None, text
    with httpx.Client(timeout=10) as client:
        accepted = client.post(f"{link.group(0)}/accept")
        assert accepted.status_code == 200, accepted.text

    seen_incident, _ = invite_newcomer(services, "EXP-ESC03", SONGPA)
    live = token("expert", "EXP-ESC03")
    with (
        httpx.Client(base_url=services["broadcast"], timeout=10) as broadcast,
        broadcast.stream("GET", "/live/stream", headers=live) as stream,
    ):
        items = (json.loads(line[6:]) for line in stream.iter_lines() if line.startswith("data: "))
        item = next(i for i in items if i["kind"] == "invitation" and i["incident_id"] == str(seen_incident))
    with httpx.Client(base_url=services["broadcast"], timeout=10) as broadcast:
        acked = broadcast.post("/live/ack", json={"ids": [item["delivery_id"]]}, headers=live)
        assert acked.status_code == 200, acked.text
        assert acked.json() == {"acknowledged": 1}

    witness_incident, _ = invite_newcomer(services, "EXP-ESC04", GWANAK)
    eventually(lambda: mails_to(box, mail_of("EXP-ESC04")), "the witness's invitation by e-mail")
    assert any(isinstance(e, DeliveryEscalated) for e in delivery_of(broadcast_log, witness_incident, "EXP-ESC04"))

    for incident_id, expert_id in ((accepted_incident, "EXP-ESC02"), (seen_incident, "EXP-ESC03")):
        events = delivery_of(broadcast_log, incident_id, expert_id)
        [acknowledged] = [e for e in events if isinstance(e, DeliveryAcknowledged)]
        assert acknowledged.by == f"expert:{expert_id}"
        assert not [e for e in events if isinstance(e, DeliveryEscalated)], f"{expert_id} was escalated"
        assert mails_to(box, mail_of(expert_id)) == []
        assert len(telegrams_to(chat_of(expert_id))) == 1
