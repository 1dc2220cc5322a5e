"""How a message reaches a person on a channel: one adapter per kind of endpoint.

- Telegram: the Bot API's ``sendMessage``.
- SMS and KakaoTalk: a gateway's HTTP API (the operator of the city's SMS and Kakao
  notification contracts), JSON ``{channel, to, text}``, authenticated with a shared secret,
  ``Idempotency-Key`` = the delivery id so a retry after a lost answer is not sent twice; and,
  where the gateway has one, its bulk API: many messages in one request, a result for each
  (``GatewayAdapter.send_many``, the format in its docstring).
- Webhooks (departments' briefing endpoints, experts who asked for one): a signed JSON POST,
  only to a URL that passes ``shared.netguard`` when it is sent (see ``WebhookAdapter``).
- E-mail: plain-text UTF-8 over SMTP (``EmailAdapter``).

Adapters raise DeliveryError; ``retryable`` says whether trying again may help. Nothing here
logs an address, a token or a URL that holds one.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import hmac
import os
import re
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Protocol, runtime_checkable
from uuid import UUID

import aiosmtplib
import httpx
import msgspec

from shared.events.broadcast import SitRep
from shared.netguard import Resolver, UnresolvedHostError, UnsafeURLError, check_url, system_resolver

__all__ = [
    "Adapter",
    "BulkAdapter",
    "ChannelConfig",
    "DeliveryError",
    "EmailAdapter",
    "GatewayAdapter",
    "GatewayMessage",
    "Message",
    "MessageAdapter",
    "TelegramAdapter",
    "WebhookAdapter",
    "adapters_from",
    "webhook_signature",
]


class DeliveryError(Exception):
    """Raised when a channel did not take a message; ``retryable`` if trying later may help."""

    def __init__(self, reason: str, *, retryable: bool) -> None:
        super().__init__(reason)
        self.retryable = retryable


class Adapter(Protocol):
    async def send(self, address: str, text: str, *, delivery_id: UUID) -> str:
        """Hand ``text`` to the channel for ``address``; the channel's id for the message."""
        ...


@dataclass(frozen=True)
class Message:
    """A message and what it is about, for channels that carry more than text (a subject, a kind)."""

    delivery_id: UUID
    text: str
    kind: str = ""
    recipient: str = ""
    incident_id: UUID | None = None
    language: str = "ko"
    sitrep: SitRep | None = None
    """A briefing's situation report: a webhook sends it as JSON beside the text."""


@runtime_checkable
class MessageAdapter(Adapter, Protocol):
    async def send_message(self, address: str, message: Message) -> str:
        """Hand ``message`` to the channel for ``address``; the channel's id for it."""
        ...


def _failure(response: httpx.Response) -> DeliveryError:
    retryable = response.status_code == 429 or response.status_code >= 500
    return DeliveryError(f"the channel answered {response.status_code}", retryable=retryable)


@dataclass
class TelegramAdapter:
    client: httpx.AsyncClient
    token: str = field(repr=False)
    api_base: str = "https://api.telegram.org"

    async def send(self, address: str, text: str, *, delivery_id: UUID) -> str:
        try:
            response = await self.client.post(
                f"{self.api_base}/bot{self.token}/sendMessage", json={"chat_id": int(address), "text": text[:4096]}
            )
        except httpx.HTTPError as e:
            raise DeliveryError(type(e).__name__, retryable=True) from None  # str(e) holds the token
        if response.status_code != 200:
            raise _failure(response)
        return str(response.json().get("result", {}).get("message_id", ""))


@dataclass(frozen=True)
class GatewayMessage:
    """One message of a bulk request: the delivery it is (its key at the gateway), where, what."""

    delivery_id: UUID
    address: str
    text: str


@runtime_checkable
class BulkAdapter(Adapter, Protocol):
    """A channel that takes many messages in one request and answers for each of them."""

    @property
    def bulk_max(self) -> int:
        """How many messages one request may carry; 0 when the endpoint takes one at a time."""
        ...

    async def send_many(self, messages: Sequence[GatewayMessage]) -> list[str | DeliveryError]:
        """Hand ``messages`` to the channel; for each, in order, its id at the channel or why not."""
        ...


class _BulkItem(msgspec.Struct, frozen=True):
    id: UUID
    to: str
    text: str


class _BulkRequest(msgspec.Struct, frozen=True):
    channel: str
    messages: list[_BulkItem]


class _BulkResult(msgspec.Struct, frozen=True):
    id: str
    status: str
    message_id: str = ""
    error: str = ""


class _BulkAnswer(msgspec.Struct, frozen=True):
    results: list[_BulkResult] = msgspec.field(default_factory=list)


_BULK_ANSWER = msgspec.json.Decoder(_BulkAnswer)
_CODE = re.compile(r"[A-Za-z0-9_.-]{1,40}")
"""What of a gateway's words may go into an event: a short code, never free text (it may hold the number)."""


def _bulk_outcome(result: _BulkResult | None) -> str | DeliveryError:
    if result is None:
        return DeliveryError("the gateway's answer left this message out", retryable=True)
    if result.status == "accepted":
        return result.message_id
    code = f" ({result.error})" if _CODE.fullmatch(result.error) else ""
    if result.status == "rejected":
        return DeliveryError(f"the gateway rejected it{code}", retryable=False)
    if result.status == "retry":
        return DeliveryError(f"the gateway deferred it{code}", retryable=True)
    return DeliveryError(f"the gateway answered an unknown status{code}", retryable=True)


@dataclass
class GatewayAdapter:
    """The SMS/KakaoTalk gateway's HTTP API, authenticated by ``X-Jikimi-Gateway-Secret``.

    One message: ``POST url`` ``{channel, to, text}``, ``Idempotency-Key`` = the delivery id; 2xx
    takes it (``{"id"}`` its id at the gateway). Many, when ``bulk_url`` is set: ``POST bulk_url``
    ``{channel, messages: [{id, to, text}, …]}``, at most ``bulk_limit`` messages, each message's
    ``id`` (the delivery id) its idempotency key; a 2xx answer is ``{results: [{id, status,
    message_id, error}, …]}``, per message ``accepted`` (``message_id`` its id at the gateway),
    ``rejected`` (it can never pass, e.g. not a number: ``error`` a short code such as
    ``invalid_number``) or ``retry`` (throttled, a carrier down). One bad number fails only its
    own message. A message the answer leaves out, an answer that cannot be read, 429, 5xx and a
    lost connection are tried again (the keys keep a message from being sent twice); any other
    answer to the request fails each of its messages for good.
    """

    client: httpx.AsyncClient
    url: str
    channel: str
    secret: str = field(repr=False)
    bulk_url: str = ""
    bulk_limit: int = 1000

    @property
    def bulk_max(self) -> int:
        return self.bulk_limit if self.bulk_url else 0

    async def send(self, address: str, text: str, *, delivery_id: UUID) -> str:
        try:
            response = await self.client.post(
                self.url,
                json={"channel": self.channel, "to": address, "text": text},
                headers={"X-Jikimi-Gateway-Secret": self.secret, "Idempotency-Key": str(delivery_id)},
            )
        except httpx.HTTPError as e:
            raise DeliveryError(type(e).__name__, retryable=True) from None
        if response.status_code not in {200, 201, 202}:
            raise _failure(response)
        return str(response.json().get("id", "")) if response.content else ""

    async def send_many(self, messages: Sequence[GatewayMessage]) -> list[str | DeliveryError]:
        if not self.bulk_url:  # a gateway without bulk: one request each, side by side
            return list(await asyncio.gather(*(self._one(m) for m in messages)))
        results: list[str | DeliveryError] = []
        for start in range(0, len(messages), self.bulk_limit):
            results += await self._many(messages[start : start + self.bulk_limit])
        return results

    async def _one(self, message: GatewayMessage) -> str | DeliveryError:
        try:
            return await self.send(message.address, message.text, delivery_id=message.delivery_id)
        except DeliveryError as e:
            return e

    async def _many(self, messages: Sequence[GatewayMessage]) -> list[str | DeliveryError]:
        body = msgspec.json.encode(
            _BulkRequest(self.channel, [_BulkItem(m.delivery_id, m.address, m.text) for m in messages])
        )
        headers = {"X-Jikimi-Gateway-Secret": self.secret, "Content-Type": "application/json"}
        try:
            response = await self.client.post(self.bulk_url, content=body, headers=headers)
        except httpx.HTTPError as e:
            return [DeliveryError(type(e).__name__, retryable=True)] * len(messages)
        if not response.is_success:
            return [_failure(response)] * len(messages)
        try:
            answer = _BULK_ANSWER.decode(response.content)
        except msgspec.DecodeError:
            return [DeliveryError("the gateway's answer could not be read", retryable=True)] * len(messages)
        by_id = {result.id: result for result in answer.results}
        return [_bulk_outcome(by_id.get(str(m.delivery_id))) for m in messages]


def webhook_signature(body: bytes, secrets: Sequence[str], timestamp: int) -> str:
    """``t=<unix>,v1=<hex>[,v1=<hex>…]``: HMAC-SHA256 of ``f"{t}.{body}"`` under each secret, so a
    receiver accepts the message while it holds any one of them (secrets roll over)."""
    signed = f"{timestamp}.".encode() + body
    macs = [hmac.new(s.encode(), signed, hashlib.sha256).hexdigest() for s in secrets]
    return ",".join([f"t={timestamp}", *(f"v1={mac}" for mac in macs)])


class _WebhookBody(msgspec.Struct, frozen=True, omit_defaults=True):
    id: UUID
    kind: str
    recipient: str
    text: str
    sent_at: datetime
    incident_id: UUID | None
    language: str
    sitrep: SitRep | None = None  # only a briefing has the key


@dataclass
class WebhookAdapter:
    """POSTs ``{id, kind, recipient, text, sent_at, incident_id, language}`` as JSON, and a
    briefing's situation report as ``sitrep`` (EDXL-SitRep-like, as ``BriefingIssued`` has it),
    signed in ``Jikimi-Signature`` with every current secret, ``Idempotency-Key`` = the delivery id.

    Each send checks the URL with ``shared.netguard`` and connects to the address it checked
    (the URL's host rewritten to it; ``Host`` and TLS SNI/verification keep the name), so a name
    that resolves elsewhere a moment later is not followed. Redirects are never followed.
    2xx is delivered; 429, 5xx, timeouts and connection errors may pass; other answers are final.
    """

    client: httpx.AsyncClient
    secrets: tuple[str, ...] = field(repr=False)
    allow_loopback: bool = False
    timeout_s: float = 5.0
    clock: Callable[[], float] = time.time
    resolve: Resolver = system_resolver
    _resolver: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(8, thread_name_prefix="webhook-dns"), repr=False
    )

    async def send(self, address: str, text: str, *, delivery_id: UUID) -> str:
        return await self.send_message(address, Message(delivery_id, text))

    async def send_message(self, address: str, message: Message) -> str:
        try:
            # Its own threads: a resolver that hangs must not hold up the sender's log writes.
            check = functools.partial(check_url, address, allow_loopback=self.allow_loopback, resolve=self.resolve)
            checked = await asyncio.get_running_loop().run_in_executor(self._resolver, check)
        except UnresolvedHostError as e:
            raise DeliveryError(f"the webhook's host {e.reason}", retryable=True) from None
        except UnsafeURLError as e:
            raise DeliveryError(f"the webhook's URL is refused: {e.reason}", retryable=False) from None
        now = self.clock()
        body = msgspec.json.encode(
            _WebhookBody(
                message.delivery_id,
                message.kind,
                message.recipient,
                message.text,
                datetime.fromtimestamp(now, UTC),
                message.incident_id,
                message.language,
                message.sitrep,
            )
        )
        url = httpx.URL(address)
        extensions = {"sni_hostname": checked.host} if url.scheme == "https" else {}
        headers = {
            "Host": url.netloc.decode("ascii"),
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "Jikimi-Webhook/1",
            "Idempotency-Key": str(message.delivery_id),
            "Jikimi-Signature": webhook_signature(body, self.secrets, int(now)),
        }
        try:
            response = await self.client.post(
                url.copy_with(host=str(checked.addresses[0])),
                content=body,
                headers=headers,
                timeout=self.timeout_s,
                follow_redirects=False,
                extensions=extensions,
            )
        except httpx.TimeoutException:
            raise DeliveryError(f"the webhook did not answer within {self.timeout_s:g} s", retryable=True) from None
        except httpx.HTTPError as e:
            raise DeliveryError(f"the webhook could not be reached ({type(e).__name__})", retryable=True) from None
        if not response.is_success:
            raise _failure(response)
        return str(response.headers.get("X-Request-Id", ""))


_SUBJECTS = {
    "invitation": ("[지키미] 재난 대응 전문가 참여 요청", "[Jikimi] Request to advise on an incident"),
    "release_notice": ("[지키미] 사고 대응 참여 종료", "[Jikimi] Your part in the incident has ended"),
    "room_link": ("[지키미] 신고하신 사고의 상황방", "[Jikimi] The room of the incident you reported"),
    "reporter_notice": ("[지키미] 신고 처리 안내", "[Jikimi] About your report"),
    "seat_unfillable": ("[지키미 상황실] 전문가 자리 미충원", "[Jikimi] A seat nobody can take"),
}


def email_subject(message: Message) -> str:
    """The subject a reader sees: by the message's kind, else its first line."""
    ko, en = _SUBJECTS.get(message.kind, (None, None))
    subject = en if message.language != "ko" else ko
    return subject or message.text.split("\n", 1)[0][:120]


@dataclass
class EmailAdapter:
    """Plain-text UTF-8 e-mail over SMTP, one connection per message; the ``Message-ID`` follows
    from the delivery id, so a receiving system can tell a resent message. 4xx answers and
    connection trouble may pass; 5xx answers are final."""

    host: str
    port: int
    sender: str
    username: str = ""
    password: str = field(default="", repr=False)
    starttls: bool | None = None
    timeout_s: float = 20.0

    async def send(self, address: str, text: str, *, delivery_id: UUID) -> str:
        return await self.send_message(address, Message(delivery_id, text))

    def compose(self, address: str, message: Message) -> EmailMessage:
        """The e-mail as sent; ValueError if an address cannot be a header."""
        domain = self.sender.rpartition("@")[2].strip(" >") or "jikimi.invalid"
        email = EmailMessage()
        email["From"] = self.sender
        email["To"] = address
        email["Subject"] = email_subject(message)
        email["Date"] = format_datetime(datetime.now(UTC))
        email["Message-ID"] = f"<{message.delivery_id}@{domain}>"
        email["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies to a machine
        email.set_content(message.text, charset="utf-8")
        return email

    async def send_message(self, address: str, message: Message) -> str:
        try:
            email = self.compose(address, message)
        except (ValueError, TypeError):
            raise DeliveryError("the e-mail address cannot be written in a header", retryable=False) from None
        domain = str(email["Message-ID"]).strip("<>").rpartition("@")[2]
        try:
            await aiosmtplib.send(
                email,
                hostname=self.host,
                port=self.port,
                username=self.username or None,
                password=self.password or None,
                start_tls=self.starttls,
                timeout=self.timeout_s,
                local_hostname=domain,  # else getfqdn(), a DNS lookup that can hang
            )
        except aiosmtplib.SMTPRecipientsRefused as e:
            raise _smtp_failure(e.recipients[0].code if e.recipients else 550) from None
        except aiosmtplib.SMTPResponseException as e:
            raise _smtp_failure(e.code) from None
        except (aiosmtplib.SMTPException, OSError) as e:
            raise DeliveryError(f"the mail server could not be reached ({type(e).__name__})", retryable=True) from None
        return str(email["Message-ID"])


def _smtp_failure(code: int) -> DeliveryError:
    return DeliveryError(f"the mail server answered {code}", retryable=400 <= code < 500)


def _flag(value: str) -> bool | None:
    """``1``/``true``/``yes`` → True, ``0``/``false``/``no`` → False, unset → None."""
    value = value.strip().lower()
    if not value:
        return None
    return value in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class ChannelConfig:
    """Where each channel's endpoint is (from the environment); unset channels have no adapter."""

    telegram_token: str = field(default="", repr=False)
    telegram_api: str = "https://api.telegram.org"
    sms_gateway_url: str = ""
    kakao_gateway_url: str = ""
    gateway_secret: str = field(default="", repr=False)
    sms_gateway_bulk_url: str = ""
    kakao_gateway_bulk_url: str = ""
    gateway_bulk_max: int = 1000
    webhook_secrets: tuple[str, ...] = field(default=(), repr=False)
    webhook_allow_loopback: bool = False
    webhook_timeout_s: float = 5.0
    smtp_host: str = ""
    smtp_port: int = 0
    smtp_from: str = ""
    smtp_user: str = ""
    smtp_password: str = field(default="", repr=False)
    smtp_starttls: bool | None = None

    @classmethod
    def from_env(cls) -> ChannelConfig:
        env = os.environ.get
        starttls = _flag(env("JIKIMI_SMTP_STARTTLS", ""))
        return cls(
            telegram_token=env("JIKIMI_TELEGRAM_BOT_TOKEN", ""),
            telegram_api=env("JIKIMI_TELEGRAM_API", cls.telegram_api),
            sms_gateway_url=env("JIKIMI_SMS_GATEWAY_URL", ""),
            kakao_gateway_url=env("JIKIMI_KAKAO_GATEWAY_URL", ""),
            gateway_secret=env("JIKIMI_GATEWAY_SECRET", ""),
            sms_gateway_bulk_url=env("JIKIMI_SMS_GATEWAY_BULK_URL", ""),
            kakao_gateway_bulk_url=env("JIKIMI_KAKAO_GATEWAY_BULK_URL", ""),
            gateway_bulk_max=int(env("JIKIMI_GATEWAY_BULK_MAX", "") or cls.gateway_bulk_max),
            webhook_secrets=tuple(s.strip() for s in env("JIKIMI_WEBHOOK_SECRETS", "").split(",") if s.strip()),
            webhook_allow_loopback=env("JIKIMI_WEBHOOK_ALLOW_LOOPBACK", "") == "1",
            webhook_timeout_s=float(env("JIKIMI_WEBHOOK_TIMEOUT_S", "5")),
            smtp_host=env("JIKIMI_SMTP_HOST", ""),
            smtp_port=int(env("JIKIMI_SMTP_PORT", "") or (587 if starttls else 25)),
            smtp_from=env("JIKIMI_SMTP_FROM", ""),
            smtp_user=env("JIKIMI_SMTP_USER", ""),
            smtp_password=env("JIKIMI_SMTP_PASSWORD", ""),
            smtp_starttls=starttls,
        )


def adapters_from(config: ChannelConfig, client: httpx.AsyncClient) -> dict[str, Adapter]:
    """An adapter for every channel the configuration names."""
    adapters: dict[str, Adapter] = {}
    if config.telegram_token:
        adapters["telegram"] = TelegramAdapter(client, config.telegram_token, config.telegram_api)
    gateways = (
        ("sms", config.sms_gateway_url, config.sms_gateway_bulk_url),
        ("kakao", config.kakao_gateway_url, config.kakao_gateway_bulk_url),
    )
    for channel, url, bulk_url in gateways:
        if url:
            adapters[channel] = GatewayAdapter(
                client, url, channel, config.gateway_secret, bulk_url, max(1, config.gateway_bulk_max)
            )
    if config.webhook_secrets:  # an unsigned briefing could be forged: no secret, no webhooks
        adapters["webhook"] = WebhookAdapter(
            client, config.webhook_secrets, config.webhook_allow_loopback, config.webhook_timeout_s
        )
    if config.smtp_host and config.smtp_from:
        adapters["email"] = EmailAdapter(
            config.smtp_host,
            config.smtp_port,
            config.smtp_from,
            config.smtp_user,
            config.smtp_password,
            config.smtp_starttls,
        )
    return adapters
