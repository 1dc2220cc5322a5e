"""Channels and the sender against fakes: signed webhooks (a mock transport, a fake resolver),
e-mail to an in-process SMTP server, and a sender that a slow receiver does not hold up."""

from __future__ import annotations

import asyncio
import email
import email.policy
import hashlib
import hmac
import json
from collections.abc import Callable, Iterator, Sequence
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
from aiosmtpd.controller import Controller

from jikimi.embedded import free_port
from services.broadcast.application import BroadcastApplication
from services.broadcast.channels import DeliveryError, EmailAdapter, Message, WebhookAdapter, webhook_signature
from services.broadcast.deliveries import DeliveryView, Sender
from services.broadcast.domain import RetryPolicy
from shared.events import CODEC
from shared.events.broadcast import DeliveryAttempted, DeliveryDelivered, DeliveryFailed, DeliveryRequested
from shared.privacy import Privacy

PRIVACY = Privacy(b"unit-test-secret-key-0123456789abcdef")
NOW = 1_760_000_000
HOOK = "https://briefing.example.org/FS-11110?k=1"


def public(host: str, port: int) -> Sequence[str]:
    return ["93.184.215.14"]


def verify(header: str, body: bytes, secret: str) -> bool:
    """A receiver's check, written from the documented format alone."""
    parts = [p.split("=", 1) for p in header.split(",")]
    timestamp = next(v for k, v in parts if k == "t")
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return any(k == "v1" and hmac.compare_digest(v, expected) for k, v in parts)


def webhook(answer: Callable[[httpx.Request], httpx.Response], **more: Any) -> tuple[WebhookAdapter, list[Any]]:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return answer(request)

    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    options: dict[str, Any] = {"resolve": public, "clock": lambda: float(NOW), **more}
    return WebhookAdapter(client, ("new-secret", "old-secret"), **options), seen


def message(**changes: Any) -> Message:
    fields: dict[str, Any] = {
        "delivery_id": UUID(int=7),
        "text": "[지키미] 종로구 화재(severe) 사고에 화재 전문가로 참여를 요청합니다: https://x/invitations/t",
        "kind": "invitation",
        "recipient": "EXP-001",
        "incident_id": UUID(int=9),
    }
    return Message(**(fields | changes))


async def test_a_webhook_gets_signed_json_that_verifies_with_the_new_and_the_old_secret() -> None:
    adapter, seen = webhook(lambda _: httpx.Response(202))
    await adapter.send_message(HOOK, message())
    [request] = seen
    body = request.content
    assert json.loads(body) == {
        "id": str(UUID(int=7)),
        "kind": "invitation",
        "recipient": "EXP-001",
        "text": message().text,
        "sent_at": "2025-10-09T08:53:20Z",
        "incident_id": str(UUID(int=9)),
        "language": "ko",
    }
    signature = request.headers["Jikimi-Signature"]
    assert signature.startswith(f"t={NOW},v1=")
    assert signature.count("v1=") == 2
    assert verify(signature, body, "new-secret")
    assert verify(signature, body, "old-secret")
    assert not verify(signature, body, "someone-elses")
    assert not verify(signature, body.replace(b"EXP-001", b"EXP-002"), "new-secret")
    assert request.headers["Idempotency-Key"] == str(UUID(int=7))
    assert request.headers["Content-Type"].startswith("application/json")


async def test_a_webhook_is_called_at_the_address_that_was_checked_under_its_own_name() -> None:
    adapter, seen = webhook(lambda _: httpx.Response(200))
    await adapter.send(HOOK, "hello", delivery_id=uuid4())
    [request] = seen
    assert request.url.host == "93.184.215.14"
    assert (request.url.path, request.url.query) == ("/FS-11110", b"k=1")
    assert request.headers["Host"] == "briefing.example.org"
    assert request.extensions["sni_hostname"] == "briefing.example.org"


def test_the_signature_has_one_v1_per_secret_over_timestamp_and_body() -> None:
    body = b'{"a":1}'
    header = webhook_signature(body, ["s1"], 42)
    assert header == f"t=42,v1={hmac.new(b's1', b'42.' + body, hashlib.sha256).hexdigest()}"


@pytest.mark.parametrize(
    ("status", "retryable"), [(429, True), (500, True), (503, True), (400, False), (404, False), (410, False)]
)
async def test_a_webhook_answer_is_retried_only_when_it_may_pass(status: int, retryable: bool) -> None:
    adapter, _ = webhook(lambda _: httpx.Response(status))
    with pytest.raises(DeliveryError) as failed:
        await adapter.send_message(HOOK, message())
    assert failed.value.retryable is retryable
    assert str(status) in str(failed.value)


async def test_a_webhook_redirect_is_not_followed() -> None:
    adapter, seen = webhook(lambda _: httpx.Response(302, headers={"Location": "http://169.254.169.254/"}))
    with pytest.raises(DeliveryError) as failed:
        await adapter.send_message(HOOK, message())
    assert not failed.value.retryable
    assert len(seen) == 1


@pytest.mark.parametrize("error", [httpx.ReadTimeout("slow"), httpx.ConnectError("refused")])
async def test_a_webhook_that_times_out_or_cannot_be_reached_is_retried(error: Exception) -> None:
    def fail(_: httpx.Request) -> httpx.Response:
        raise error

    adapter, _ = webhook(fail)
    with pytest.raises(DeliveryError) as failed:
        await adapter.send_message(HOOK, message())
    assert failed.value.retryable


async def test_a_webhook_whose_name_now_resolves_inside_is_not_called_and_fails_for_good() -> None:
    adapter, seen = webhook(lambda _: httpx.Response(200), resolve=lambda h, p: ["10.0.0.8"])
    with pytest.raises(DeliveryError) as failed:
        await adapter.send_message(HOOK, message())
    assert (failed.value.retryable, seen) == (False, [])
    assert "private" in str(failed.value)
    assert "briefing.example.org" not in str(failed.value)  # the reason goes into events


async def test_a_webhook_whose_name_does_not_resolve_is_tried_again_later() -> None:
    def nowhere(host: str, port: int) -> Sequence[str]:
        raise OSError("temporary failure in name resolution")

    adapter, seen = webhook(lambda _: httpx.Response(200), resolve=nowhere)
    with pytest.raises(DeliveryError) as failed:
        await adapter.send_message(HOOK, message())
    assert (failed.value.retryable, seen) == (True, [])


async def test_loopback_webhooks_are_refused_unless_allowed() -> None:
    def loopback(host: str, port: int) -> Sequence[str]:
        return ["127.0.0.1"]

    refused, _ = webhook(lambda _: httpx.Response(200), resolve=loopback)
    with pytest.raises(DeliveryError, match="loopback"):
        await refused.send_message("http://127.0.0.1:9/hook", message())
    allowed, seen = webhook(lambda _: httpx.Response(200), resolve=loopback, allow_loopback=True)
    await allowed.send_message("http://127.0.0.1:9/hook", message())
    assert seen[0].url.host == "127.0.0.1"


class Mailbox:
    """An SMTP server's handler: keeps what it accepts; refuses recipients as told."""

    def __init__(self) -> None:
        self.received: list[email.message.EmailMessage] = []
        self.refuse: dict[str, str] = {}

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:  # noqa: N802 -- aiosmtpd's hook name
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 -- aiosmtpd's hook name
        self.received.append(email.message_from_bytes(envelope.content, policy=email.policy.default))  # type: ignore[arg-type]
        return "250 Message accepted"


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    handler = Mailbox()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield handler, controller.port
    controller.stop()


async def test_an_email_arrives_as_plain_korean_text_with_a_subject_and_a_message_id(
    mailbox: tuple[Mailbox, int],
) -> None:
    box, port = mailbox
    adapter = EmailAdapter("127.0.0.1", port, "지키미 <noreply@jikimi.example>", starttls=False)
    provider_id = await adapter.send_message("kim@example.org", message())
    [mail] = box.received
    assert mail["Subject"] == "[지키미] 재난 대응 전문가 참여 요청"
    assert mail["To"] == "kim@example.org"
    assert mail["Message-ID"] == provider_id == f"<{UUID(int=7)}@jikimi.example>"
    assert mail.get_content_type() == "text/plain"
    assert mail.get_content().strip() == message().text


@pytest.mark.parametrize(("answer", "retryable"), [("450 mailbox busy", True), ("550 no such user", False)])
async def test_an_email_refused_for_now_is_retried_and_for_good_is_final(
    mailbox: tuple[Mailbox, int], answer: str, retryable: bool
) -> None:
    box, port = mailbox
    box.refuse["gone@example.org"] = answer
    adapter = EmailAdapter("127.0.0.1", port, "noreply@jikimi.example", starttls=False)
    with pytest.raises(DeliveryError) as failed:
        await adapter.send_message("gone@example.org", message())
    assert failed.value.retryable is retryable
    assert answer[:3] in str(failed.value)


async def test_an_email_server_that_is_not_there_is_retried() -> None:
    adapter = EmailAdapter("127.0.0.1", free_port(), "noreply@jikimi.example", starttls=False, timeout_s=2)
    with pytest.raises(DeliveryError) as failed:
        await adapter.send_message("kim@example.org", message())
    assert failed.value.retryable


async def test_an_address_that_would_inject_headers_fails_for_good() -> None:
    adapter = EmailAdapter("127.0.0.1", free_port(), "noreply@jikimi.example")
    with pytest.raises(DeliveryError) as failed:
        await adapter.send_message("kim@example.org\r\nBcc: all@example.org", message())
    assert not failed.value.retryable


# The sender: one slow receiver holds up nobody.


class Receivers:
    """A fake channel: addresses in ``stalled`` never answer; the others answer at once."""

    def __init__(self, stalled: set[str] = frozenset(), failures: list[DeliveryError] | None = None) -> None:  # type: ignore[assignment]
        self.stalled, self.failures = stalled, failures or []
        self.calls: list[str] = []
        self.answered: list[str] = []
        self.release = asyncio.Event()

    async def send(self, address: str, text: str, *, delivery_id: UUID) -> str:
        self.calls.append(address)
        if address in self.stalled:
            await self.release.wait()
        if self.failures:
            raise self.failures.pop(0)
        self.answered.append(address)
        return "ok"


def sender_for(channel: Receivers, **options: Any) -> Sender:
    app = BroadcastApplication()
    return Sender(app, DeliveryView(app.recorder), {"webhook": channel}, PRIVACY, poll_s=0.01, **options)


def ask(sender: Sender, address: str, recipient: str = "FS-11110") -> UUID:
    requested = DeliveryRequested(
        originator_id=uuid4(),
        originator_version=1,
        recipient=recipient,
        channel="webhook",
        kind="briefing",
        text="브리핑",
        address_sealed=PRIVACY.seal(f"webhook:{address}"),
    )
    sender.app.record(requested)
    return requested.originator_id


def logged(sender: Sender) -> list[Any]:
    return [CODEC.decode(n.state) for n in sender.app.recorder.select_notifications(0, 1000)]


async def eventually(check: Callable[[], bool]) -> None:
    async with asyncio.timeout(5):
        while not check():  # noqa: ASYNC110 -- polls the event log, which has no event to wait on
            await asyncio.sleep(0.01)


async def test_a_delivery_after_a_stalled_one_is_delivered_while_the_stalled_one_waits() -> None:
    channel = Receivers(stalled={"https://dead.example.org/"})
    sender = sender_for(channel)
    ask(sender, "https://dead.example.org/", recipient="DO-1")
    stop = asyncio.Event()
    running = asyncio.create_task(sender.run(stop))
    await eventually(lambda: channel.calls == ["https://dead.example.org/"])
    fast = ask(sender, "https://alive.example.org/", recipient="DO-2")
    await eventually(lambda: any(isinstance(e, DeliveryDelivered) and e.originator_id == fast for e in logged(sender)))
    assert channel.answered == ["https://alive.example.org/"]
    assert channel.calls.count("https://dead.example.org/") == 1  # in flight: never picked twice
    channel.release.set()
    await eventually(lambda: len(channel.answered) == 2)
    stop.set()
    await running
    assert sum(isinstance(e, DeliveryDelivered) for e in logged(sender)) == 2


async def test_a_send_that_outlasts_its_timeout_is_recorded_as_retryable() -> None:
    channel = Receivers(stalled={"https://dead.example.org/"})
    sender = sender_for(channel, send_timeout_s=0.05)
    ask(sender, "https://dead.example.org/")
    await sender.send_due()
    [failed] = [e for e in logged(sender) if isinstance(e, DeliveryFailed)]
    assert failed.retry_at is not None
    assert "no answer within" in failed.error


async def test_one_recipient_takes_no_more_than_its_share_of_the_senders() -> None:
    channel = Receivers(stalled={"https://dead.example.org/"})
    sender = sender_for(channel, per_recipient=2)
    for _ in range(5):
        ask(sender, "https://dead.example.org/")
    ask(sender, "https://alive.example.org/", recipient="DO-2")
    stop = asyncio.Event()
    running = asyncio.create_task(sender.run(stop))
    await eventually(lambda: channel.answered == ["https://alive.example.org/"])
    assert channel.calls.count("https://dead.example.org/") == 2
    channel.release.set()
    await eventually(lambda: len(channel.answered) == 6)
    stop.set()
    await running


async def test_a_channel_that_keeps_failing_is_parked_after_the_last_attempt() -> None:
    errors = [DeliveryError("the channel answered 503", retryable=True) for _ in range(2)]
    sender = sender_for(Receivers(failures=errors), policy=RetryPolicy(max_attempts=2, first_delay_s=0.0))
    ask(sender, "https://flaky.example.org/")
    await sender.send_due()
    await sender.send_due()
    failures = [e for e in logged(sender) if isinstance(e, DeliveryFailed)]
    assert [f.final for f in failures] == [False, True]
    assert failures[-1].error == "parked after 2 attempts: the channel answered 503"


async def test_a_send_cut_off_by_a_stop_is_due_again_after_a_restart() -> None:
    channel = Receivers(stalled={"https://slow.example.org/"})
    sender = sender_for(channel, grace_s=0.01)
    ask(sender, "https://slow.example.org/")
    stop = asyncio.Event()
    running = asyncio.create_task(sender.run(stop))
    await eventually(lambda: len(channel.calls) == 1)
    stop.set()
    await running
    assert [type(e) for e in logged(sender)] == [DeliveryRequested, DeliveryAttempted]
    channel.stalled = set()
    restarted = Sender(sender.app, DeliveryView(sender.app.recorder), {"webhook": channel}, PRIVACY)
    assert await restarted.send_due() == 1
    assert channel.answered == ["https://slow.example.org/"]
