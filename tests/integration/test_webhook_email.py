"""Experts reached by e-mail and by webhook, on real servers: a local SMTP server (aiosmtpd)
reads what the expert reads; local webhook receivers check the signature, and one of them
never answers in time without holding up anybody else. Broadcast and community as real
processes; invitations come to broadcast as community's events do, through the stream."""

from __future__ import annotations

import email
import email.policy
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid4, uuid5

import httpx
import pytest
from aiosmtpd.controller import Controller
from nats.aio.client import Client

from jikimi.embedded import free_port
from shared.events import encode, utc_now
from shared.events.common import ContactRef
from shared.events.community import CandidateScore, MemberInvited
from shared.privacy import Privacy
from shared.settings import DatabaseSettings, NatsSettings
from tests.integration.pipeline import eventually
from tests.integration.services import SECRET_KEY, service_process
from tests.integration.test_community_assembly import token
from tests.integration.test_expert_pool_api import newcomer

PRIVACY = Privacy(SECRET_KEY.encode())
SECRETS = ("whsec-new", "whsec-old")
PUBLIC_URL = "https://jikimi.example.org"
WAIT_S = 60.0  # a bound on waiting for what must happen, not a measure: a loaded machine may take its time
SOURCE = f"tests{uuid4().hex[:8]}"  # the invitations' tracking names: never a real service's positions


class Mailbox:
    """The SMTP server's handler: every message it accepted, as the reader's mail program parses it."""

    def __init__(self) -> None:
        self.received: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 -- aiosmtpd's hook name
        self.received.append(email.message_from_bytes(envelope.content, policy=email.policy.default))  # type: ignore[arg-type]
        return "250 Message accepted for delivery"


class Receivers(BaseHTTPRequestHandler):
    """Webhook receivers: ``/hooks/slow`` takes 10 s to answer; the others answer at once."""

    arrivals: list[dict[str, Any]] = []  # noqa: RUF012 -- shared by the server's handler instances

    def do_POST(self) -> None:  # http.server calls it by this name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.arrivals.append({"path": self.path, "headers": dict(self.headers), "body": body})
        if self.path == "/hooks/slow":
            time.sleep(10)
            self.arrivals.append({"path": self.path, "answered": True})
        try:
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()
        except OSError:
            pass  # the sender gave up waiting

    def log_message(self, *_: Any) -> None:
        pass


@pytest.fixture(scope="module")
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    handler = Mailbox()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield handler, controller.port
    controller.stop()


@pytest.fixture(scope="module")
def receivers() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Receivers)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture(scope="module")
def services(
    database: DatabaseSettings, nats_settings: NatsSettings, mailbox: tuple[Mailbox, int], receivers: str
) -> Iterator[str]:
    _, smtp_port = mailbox
    broadcast_env = {
        "JIKIMI_SMTP_HOST": "127.0.0.1",
        "JIKIMI_SMTP_PORT": str(smtp_port),
        "JIKIMI_SMTP_FROM": "지키미 <noreply@jikimi.example>",
        "JIKIMI_SMTP_STARTTLS": "0",
        "JIKIMI_WEBHOOK_SECRETS": ",".join(SECRETS),
        "JIKIMI_WEBHOOK_ALLOW_LOOPBACK": "1",  # the receivers are local; never set in production
        "JIKIMI_WEBHOOK_TIMEOUT_S": "30",  # longer than the slow receiver takes: the sender must not wait for it
        "JIKIMI_PUBLIC_URL": PUBLIC_URL,
    }
    with (
        service_process("broadcast", database, nats_settings.url, broadcast_env),
        service_process("community", database, nats_settings.url) as community,
    ):
        yield community


@pytest.fixture
async def invite(nc: Client, services: str) -> Any:
    """Publishes an invitation for an expert reachable at ``contacts`` as community would; its delivery id."""

    async def publish(expert_id: str, *contacts: str) -> UUID:
        event = MemberInvited(
            originator_id=uuid4(),
            originator_version=1,
            incident_id=uuid4(),
            expert_id=expert_id,
            seat_field="fire",
            rank=1,
            score=CandidateScore(expert_id=expert_id, total=0.9),
            expires_at=utc_now() + timedelta(minutes=15),
            contacts=[ContactRef(c.partition(":")[0], PRIVACY.seal(c)) for c in contacts],
            disaster_type="fire",
            severity="severe",
            district_code="11110",
            service=SOURCE,
            position=int(uuid4().int % 10**12),
        )
        await nc.jetstream().publish(
            f"jikimi.community.{MemberInvited.event_name()}",
            encode(event),
            headers={"Nats-Msg-Id": f"{SOURCE}:{event.position}"},
        )
        return uuid5(NAMESPACE_URL, f"jikimi:delivery:{event.id}:invitation")

    return publish


def verified(header: str, body: bytes, secret: str) -> bool:
    """A receiver's check of ``Jikimi-Signature``, from the documented format alone."""
    parts = [p.split("=", 1) for p in header.split(",")]
    timestamp = next(v for k, v in parts if k == "t")
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return any(k == "v1" and hmac.compare_digest(v, expected) for k, v in parts)


def arrived(delivery_id: UUID) -> list[dict[str, Any]]:
    return [a for a in Receivers.arrivals if "body" in a and json.loads(a["body"])["id"] == str(delivery_id)]


async def test_an_expert_invited_by_email_reads_the_invitation_in_korean_with_its_link(
    mailbox: tuple[Mailbox, int], invite: Any
) -> None:
    box, _ = mailbox
    delivery_id = await invite("EXP-M01", "email:kim.expert@example.org")
    await eventually(lambda: any(m["To"] == "kim.expert@example.org" for m in box.received), WAIT_S, "the e-mail")
    [mail] = [m for m in box.received if m["To"] == "kim.expert@example.org"]
    assert mail["Subject"] == "[지키미] 재난 대응 전문가 참여 요청"
    assert mail["From"] == "지키미 <noreply@jikimi.example>"
    assert mail["Message-ID"] == f"<{delivery_id}@jikimi.example>"
    body = mail.get_content()
    assert "종로구 화재(severe) 사고에 화재 전문가로 참여를 요청합니다" in body
    assert f"{PUBLIC_URL}/invitations/" in body
    assert "{link}" not in body


async def test_a_webhook_receiver_gets_a_signed_invitation_it_can_verify_with_either_secret(
    receivers: str, invite: Any
) -> None:
    delivery_id = await invite("EXP-W01", f"webhook:{receivers}/hooks/EXP-W01")
    await eventually(lambda: bool(arrived(delivery_id)), WAIT_S, "the webhook")
    [call] = arrived(delivery_id)
    assert call["path"] == "/hooks/EXP-W01"
    payload = json.loads(call["body"])
    assert (payload["kind"], payload["recipient"]) == ("invitation", "EXP-W01")
    assert f"{PUBLIC_URL}/invitations/" in payload["text"]
    assert {"sent_at", "incident_id"} <= payload.keys()
    signature = call["headers"]["Jikimi-Signature"]
    assert all(verified(signature, call["body"], secret) for secret in SECRETS)
    assert not verified(signature, call["body"], "a-guess")
    assert call["headers"]["Idempotency-Key"] == str(delivery_id)


async def test_a_receiver_that_does_not_answer_holds_up_no_other_delivery(receivers: str, invite: Any) -> None:
    """The slow receiver takes 10 s and the sender waits for it (timeout 30 s here): the next
    delivery must arrive elsewhere while the slow one is still open, not after it."""
    stalled = await invite("EXP-W02", f"webhook:{receivers}/hooks/slow")
    await eventually(lambda: bool(arrived(stalled)), WAIT_S, "the slow receiver's call")
    fast = await invite("EXP-W03", f"webhook:{receivers}/hooks/EXP-W03")
    await eventually(lambda: bool(arrived(fast)), WAIT_S, "the fast receiver's call")
    seen = list(Receivers.arrivals)
    slow_called = seen.index(arrived(stalled)[0])
    fast_called = seen.index(arrived(fast)[0])
    slow_answered = [n for n, a in enumerate(seen) if a.get("answered")]
    assert slow_called < fast_called
    assert not slow_answered or fast_called < slow_answered[0]


@pytest.mark.parametrize(
    "address",
    [
        "http://10.0.0.5/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://127.0.0.1:8080/hook",
        "http://2130706433/hook",
        "http://localhost/hook",
        "https://[::ffff:192.168.0.1]/hook",
        "ftp://briefing.example.org/hook",
        "https://user:pw@93.184.215.14/hook",
    ],
)
def test_an_expert_whose_webhook_leads_inside_is_refused_at_registration(services: str, address: str) -> None:
    expert_id = f"EXP-H{uuid4().hex[:6].upper()}"
    profile = newcomer(expert_id, channels=[{"channel": "webhook", "address": address}])
    with httpx.Client(base_url=services, timeout=10) as community:
        refused = community.post("/experts", json=profile, headers=token("admin", "root"))
        assert refused.status_code == 400, refused.text
        assert "channels" in refused.text
        assert community.get(f"/experts/{expert_id}", headers=token("admin", "root")).status_code == 404


def test_an_expert_with_a_public_webhook_is_registered(services: str) -> None:
    expert_id = f"EXP-H{uuid4().hex[:6].upper()}"
    profile = newcomer(expert_id, channels=[{"channel": "webhook", "address": "https://93.184.215.14/hook"}])
    with httpx.Client(base_url=services, timeout=10) as community:
        added = community.post("/experts", json=profile, headers=token("admin", "root"))
        assert added.status_code == 201, added.text
        assert "93.184" not in added.text
