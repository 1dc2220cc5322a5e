"""KakaoTalk channel chatbot (Kakao i Open Builder skill), request and response formats.

Kakao POSTs a skill request and waits at most 5 s for a version "2.0" skill response. A skill
request carries no message id, so a repeat (Kakao retries on timeout) is recognised by a hash
of what the user sent, within a ten-minute bucket.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

import msgspec

from services.intake.reception import InboundMessage

__all__ = ["CANCEL_WORDS", "KakaoSkillRequest", "skill_response", "to_inbound"]

CANCEL_WORDS = frozenset({"신고 취소", "신고취소", "취소", "cancel", "cancel my report"})
LOCATION_WORDS = frozenset({"위치 보내기", "send my location"})

# Kakao's limits: simpleText ≤ 1,000 characters, ≤ 3 outputs, ≤ 10 quick replies, labels ≤ 14.
MAX_TEXT, MAX_OUTPUTS, MAX_QUICK_REPLIES, MAX_LABEL = 1000, 3, 10, 14


class KakaoUser(msgspec.Struct, frozen=True):
    id: str
    type: str = ""
    properties: dict[str, Any] = msgspec.field(default_factory=dict)


class KakaoUserRequest(msgspec.Struct, frozen=True):
    user: KakaoUser
    utterance: str = ""
    timezone: str = ""
    lang: str | None = None
    params: dict[str, Any] = msgspec.field(default_factory=dict)
    callback_url: str | None = msgspec.field(default=None, name="callbackUrl")


class KakaoAction(msgspec.Struct, frozen=True):
    id: str = ""
    name: str = ""
    params: dict[str, Any] = msgspec.field(default_factory=dict)
    detail_params: dict[str, Any] = msgspec.field(default_factory=dict, name="detailParams")
    client_extra: dict[str, Any] | None = msgspec.field(default=None, name="clientExtra")


class KakaoSkillRequest(msgspec.Struct, frozen=True):
    """The parts of a skill request intake reads; Kakao's other keys are ignored."""

    user_request: KakaoUserRequest = msgspec.field(name="userRequest")
    action: KakaoAction = msgspec.field(default_factory=KakaoAction)


def to_inbound(request: KakaoSkillRequest, received_at: datetime) -> InboundMessage:
    """The citizen's message; the sender is the bot user key (pseudonymised later)."""
    user_request, action = request.user_request, request.action
    text = user_request.utterance.strip()
    extra = action.client_extra or {}
    address = str(action.params.get("address") or action.params.get("location") or "")
    fingerprint = msgspec.json.encode([user_request.user.id, text, action.id, action.params, extra])
    bucket = int(received_at.timestamp()) // 600
    key = f"{hashlib.sha256(fingerprint).hexdigest()[:32]}:{bucket}"
    cancel = text.lower() in CANCEL_WORDS or extra.get("action") == "cancel"
    return InboundMessage(
        channel="kakao",
        sender_id=user_request.user.id,
        message_key=key,
        received_at=received_at,
        text="" if cancel or text in LOCATION_WORDS or (address and text == address) else text,
        address=address,
        language=user_request.lang or "ko",
        reply_to=str(user_request.user.properties.get("plusfriendUserKey") or ""),
        cancel=cancel,
    )


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def skill_response(texts: list[str], quick_replies: list[tuple[str, str]]) -> dict[str, Any]:
    """A version "2.0" skill response within Kakao's limits."""
    outputs = [{"simpleText": {"text": _clip(t, MAX_TEXT)}} for t in texts if t][:MAX_OUTPUTS]
    replies = [
        {"label": _clip(label, MAX_LABEL), "action": "message", "messageText": message}
        for label, message in quick_replies
    ][:MAX_QUICK_REPLIES]
    return {"version": "2.0", "template": {"outputs": outputs, "quickReplies": replies}}
