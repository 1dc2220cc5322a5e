"""How a message reaches a person on a channel: one adapter per kind of endpoint.

- Telegram: the Bot API's ``sendMessage``.
- SMS and KakaoTalk: a gateway's HTTP API (the operator of the city's SMS and Kakao
  notification contracts), JSON ``{channel, to, text}``, authenticated with a shared secret,
  ``Idempotency-Key`` = the delivery id so a retry after a lost answer is not sent twice.

Adapters raise DeliveryError; ``retryable`` says whether trying again may help. Nothing here
logs an address, a token or a URL that holds one.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Protocol
from uuid import UUID

import httpx

__all__ = ["Adapter", "ChannelConfig", "DeliveryError", "GatewayAdapter", "TelegramAdapter", "adapters_from"]


class DeliveryError(Exception):
    """Raised when a channel did not take a message; ``retryable`` if trying later may help."""

    def __init__(self, reason: str, *, retryable: bool) -> None:
        super().__init__(reason)
        self.retryable = retryable


class Adapter(Protocol):
    async def send(self, address: str, text: str, *, delivery_id: UUID) -> str:
        """Hand ``text`` to the channel for ``address``; the channel's id for the message."""
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


@dataclass
class GatewayAdapter:
    client: httpx.AsyncClient
    url: str
    channel: str
    secret: str = field(repr=False)

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


@dataclass(frozen=True)
class ChannelConfig:
    """Where each channel's endpoint is (from the environment); unset channels have no adapter."""

    telegram_token: str = field(default="", repr=False)
    telegram_api: str = "https://api.telegram.org"
    sms_gateway_url: str = ""
    kakao_gateway_url: str = ""
    gateway_secret: str = field(default="", repr=False)

    @classmethod
    def from_env(cls) -> ChannelConfig:
        return cls(
            telegram_token=os.environ.get("JIKIMI_TELEGRAM_BOT_TOKEN", ""),
            telegram_api=os.environ.get("JIKIMI_TELEGRAM_API", cls.telegram_api),
            sms_gateway_url=os.environ.get("JIKIMI_SMS_GATEWAY_URL", ""),
            kakao_gateway_url=os.environ.get("JIKIMI_KAKAO_GATEWAY_URL", ""),
            gateway_secret=os.environ.get("JIKIMI_GATEWAY_SECRET", ""),
        )


def adapters_from(config: ChannelConfig, client: httpx.AsyncClient) -> dict[str, Adapter]:
    """An adapter for every channel the configuration names."""
    adapters: dict[str, Adapter] = {}
    if config.telegram_token:
        adapters["telegram"] = TelegramAdapter(client, config.telegram_token, config.telegram_api)
    if config.sms_gateway_url:
        adapters["sms"] = GatewayAdapter(client, config.sms_gateway_url, "sms", config.gateway_secret)
    if config.kakao_gateway_url:
        adapters["kakao"] = GatewayAdapter(client, config.kakao_gateway_url, "kakao", config.gateway_secret)
    return adapters
