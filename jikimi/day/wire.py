"""A planned message as its channel sends it to intake: a KakaoTalk skill request, a Telegram
webhook update, an SMS gateway webhook, or the web page's POST /reports.

The plan names citizens by number; a run turns each into a phone number, a Telegram chat, a
KakaoTalk user key and a web device of its own, salted by the run's id. So the same plan played
twice against one deployment is two days of new reports, not repeats intake would answer once.
"""

from __future__ import annotations

import hashlib
import string
import time
from collections.abc import Mapping
from typing import Any, NamedTuple

from jikimi.day.model import Message

__all__ = ["CHANNEL_SECRETS", "Request", "Wire"]

CHANNEL_SECRETS = {"kakao": "JIKIMI_KAKAO_SECRET", "telegram": "JIKIMI_TELEGRAM_SECRET", "sms": "JIKIMI_SMS_SECRET"}
"""The environment variable holding the secret each channel's webhook proves itself with."""

_SECRET_HEADERS = {
    "kakao": "X-Jikimi-Skill-Secret",
    "telegram": "X-Telegram-Bot-Api-Secret-Token",
    "sms": "X-Jikimi-Gateway-Secret",
}
_FIRST_NAMES = ("민준", "서연", "지호", "하은", "도윤", "지우", "Min", "Jisoo", "현우", "수빈")
_BASE62 = string.digits + string.ascii_letters


class Request(NamedTuple):
    """What to POST to intake: the path, the JSON body, the headers; ``channel`` is the one used."""

    channel: str
    path: str
    body: dict[str, Any]
    headers: dict[str, str]


class Wire:
    """The run's channel identities and payloads."""

    def __init__(self, run: str, secrets: Mapping[str, str]) -> None:
        self.run = run
        self.secrets = {channel: secret for channel, secret in secrets.items() if secret}
        self._update_base = self._number("updates", 0, 10**8) * 10

    def _digest(self, *parts: object) -> bytes:
        return hashlib.sha256(":".join(str(p) for p in (self.run, *parts)).encode()).digest()

    def _number(self, kind: str, citizen: int, modulo: int) -> int:
        return int.from_bytes(self._digest(kind, citizen)[:8], "big") % modulo

    def phone(self, citizen: int) -> str:
        digits = f"{self._number('phone', citizen, 10**8):08d}"
        return f"010-{digits[:4]}-{digits[4:]}"

    def chat_id(self, citizen: int) -> int:
        return 1_000_000_000 + self._number("telegram", citizen, 9 * 10**9)

    def kakao_user(self, citizen: int) -> tuple[str, str]:
        """The bot user key and the plus-friend key of a KakaoTalk user."""
        digest = self._digest("kakao", citizen)
        friend = "".join(_BASE62[b % 62] for b in digest[:12])
        return digest.hex(), friend

    def device(self, citizen: int) -> str:
        return f"web-{self._digest('device', citizen).hex()[:20]}"

    def request(self, message: Message, index: int) -> Request:
        """The request for the ``index``-th message of the plan; through the web API when the
        message's channel has no secret here (a webhook intake would refuse)."""
        channel = message.channel
        if channel != "web" and channel not in self.secrets:
            return self._web(message, index)
        headers = {_SECRET_HEADERS[channel]: self.secrets[channel]} if channel != "web" else {}
        if channel == "kakao":
            return Request(channel, "/channels/kakao/skill", self._kakao(message, index), headers)
        if channel == "telegram":
            return Request(channel, "/channels/telegram/webhook", self._telegram(message, index), headers)
        if channel == "sms":
            body = {"message_id": f"{self.run}-{index}", "from": self.phone(message.citizen), "text": message.text}
            return Request(channel, "/channels/sms", body, headers)
        return self._web(message, index)

    def _web(self, message: Message, index: int) -> Request:
        body: dict[str, Any] = {"text": message.text, "reporter": self.device(message.citizen), "language": "ko"}
        if message.point is not None:
            body["location"] = {"lat": message.point[0], "lon": message.point[1], "accuracy_m": 15.0}
        if message.address:
            body["address"] = message.address
        return Request("web", "/reports", body, {"Idempotency-Key": f"{self.run}-{index}"})

    def _kakao(self, message: Message, index: int) -> dict[str, Any]:
        user, friend = self.kakao_user(message.citizen)
        block = ("위치 보내기", "location_skill") if message.address else ("신고 접수", "report_skill")
        ids = self._digest("kakao-ids", index).hex()
        params = {"address": message.address} if message.address else {}
        details = {"address": {"origin": message.address, "value": message.address, "groupName": ""}} if params else {}
        return {
            "intent": {"id": ids[:24], "name": block[0]},
            "userRequest": {
                "timezone": "Asia/Seoul",
                "params": {"surface": "Kakaotalk.plusfriend"},
                "block": {"id": ids[:24], "name": block[0]},
                "utterance": message.text,
                "lang": "ko",
                "user": {
                    "id": user,
                    "type": "botUserKey",
                    "properties": {"plusfriendUserKey": friend, "isFriend": True},
                },
            },
            "bot": {"id": "5e9b8a7c6d5e4f3a2b1c0d9e", "name": "서울119"},
            "action": {
                "name": block[1],
                "clientExtra": None,
                "params": params,
                "id": ids[24:48],
                "detailParams": details,
            },
            "contexts": [],
        }

    def _telegram(self, message: Message, index: int) -> dict[str, Any]:
        chat = self.chat_id(message.citizen)
        name = _FIRST_NAMES[chat % len(_FIRST_NAMES)]
        sent: dict[str, Any] = {
            "message_id": index + 1,
            "from": {"id": chat, "is_bot": False, "first_name": name, "language_code": "ko"},
            "chat": {"id": chat, "first_name": name, "type": "private"},
            "date": int(time.time()),
        }
        if message.point is not None:
            sent["location"] = {
                "latitude": message.point[0],
                "longitude": message.point[1],
                "horizontal_accuracy": 12.0,
            }
        if message.text:
            sent["text"] = message.text
        return {"update_id": self._update_base + index, "message": sent}
