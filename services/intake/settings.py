"""Intake's channel settings, read from the environment once."""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field

from services.intake.linking import LinkingPolicy
from services.intake.reception import ReceptionPolicy

__all__ = ["ChannelSettings", "reception_policy_from_env"]


def _networks(raw: str) -> tuple[str, ...]:
    """The CIDRs of an allow-list, checked now so a typo fails at start-up, not per request."""
    parts = tuple(part.strip() for part in raw.split(",") if part.strip())
    for part in parts:
        ipaddress.ip_network(part, strict=False)
    return parts


@dataclass(frozen=True)
class ChannelSettings:
    """How each channel's webhook proves it is the channel (a shared secret or an allow-list)."""

    kakao_secret: str = field(default="", repr=False)
    kakao_allow: tuple[str, ...] = ()
    telegram_secret: str = field(default="", repr=False)
    sms_secret: str = field(default="", repr=False)

    @classmethod
    def from_env(cls) -> ChannelSettings:
        return cls(
            kakao_secret=os.environ.get("JIKIMI_KAKAO_SECRET", ""),
            kakao_allow=_networks(os.environ.get("JIKIMI_KAKAO_ALLOW", "")),
            telegram_secret=os.environ.get("JIKIMI_TELEGRAM_SECRET", ""),
            sms_secret=os.environ.get("JIKIMI_SMS_SECRET", ""),
        )

    def kakao_allows(self, host: str | None) -> bool:
        """Whether a request from ``host`` is on the KakaoTalk allow-list."""
        if not host or not self.kakao_allow:
            return False
        address = ipaddress.ip_address(host)
        return any(address in ipaddress.ip_network(net, strict=False) for net in self.kakao_allow)


def reception_policy_from_env() -> ReceptionPolicy:
    """How reports group, from ``JIKIMI_LINK_MAX_KM``, ``JIKIMI_LINK_WINDOW_MIN`` and
    ``JIKIMI_CONVERSATION_MIN`` (the defaults where unset)."""
    default = ReceptionPolicy()
    return ReceptionPolicy(
        conversation_minutes=float(os.environ.get("JIKIMI_CONVERSATION_MIN", default.conversation_minutes)),
        linking=LinkingPolicy(
            max_distance_km=float(os.environ.get("JIKIMI_LINK_MAX_KM", default.linking.max_distance_km)),
            window_minutes=float(os.environ.get("JIKIMI_LINK_WINDOW_MIN", default.linking.window_minutes)),
        ),
    )
