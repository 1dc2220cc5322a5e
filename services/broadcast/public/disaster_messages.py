"""Korean disaster text messages (재난문자) as the CAP 1.2 alerts the public feed relays.

A 재난문자 is not CAP: intake records the API's fields (``DisasterMessageReceived``). Each one
about Seoul is written here as a ``CapAlert``, so ``cap.relayed_alert`` writes it out like every
other national alert and the schema checks it before it is served.

The choices the message itself does not make, and why:

- Only Seoul's: a message is relayed when one of its receiving regions is in Seoul (intake
  names the districts: ``district_codes``). The API carries the whole country's messages,
  each addressed to the regions that received it by cell broadcast; the feed is the Seoul
  situation room's, for people in Seoul (DOMAIN.md asks nothing of other regions).
- Its sender is ``SENDER``, a placeholder: DOMAIN.md names no issuing authority and the API
  carries none (the issuer is at best a bracketed prefix of the text). ``.invalid`` (RFC 2606)
  keeps it from passing for a real address; change it once the issuer is confirmed.
- It lasts ``LIFETIME`` from its creation: a 재난문자 carries no expiry and no cancellation.
- Severity follows its level (the three of DOMAIN.md, most urgent first): 위급재난 ``Extreme``,
  긴급재난 ``Severe``, 안전안내 ``Minor``; a level intake did not know is ``Unknown``. Urgency is
  ``Immediate`` and certainty ``Observed``: a 재난문자 is sent about what is happening now.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from services.broadcast.public.mapping import cap_category_ko
from shared import geo
from shared.events.cap import CapAlert, CapArea, CapInfo, CapValue
from shared.events.intake import DisasterMessageReceived

__all__ = [
    "LIFETIME",
    "SENDER",
    "disaster_message_alert",
    "expires_at",
    "is_for_seoul",
    "message_identifier",
    "seoul_district_codes",
]

SENDER = "kr-disaster-messages@jikimi.invalid"
LIFETIME = timedelta(hours=24)
_SEVERITY = {"emergency": "Extreme", "urgent": "Severe", "safety": "Minor"}
_LEVEL_KO = {"emergency": "위급재난문자", "urgent": "긴급재난문자", "safety": "안전안내문자"}
_HEADLINE_CHARS = 80  # CAP asks for a headline "of no more than 160 characters"; Korean text is dense


def message_identifier(serial: int) -> str:
    """The CAP identifier of a disaster text message: the same for its serial number, always."""
    return f"KR-CBS-{serial}"


def seoul_district_codes(message: DisasterMessageReceived) -> list[str]:
    """The Seoul districts the message was sent to, as district codes (unknown codes left out)."""
    return sorted({code for code in message.district_codes if geo.district_by_code(code) is not None})


def is_for_seoul(message: DisasterMessageReceived) -> bool:
    """Whether the public feed relays the message at all: it names a Seoul district."""
    return bool(seoul_district_codes(message))


def expires_at(message: DisasterMessageReceived) -> datetime:
    """When the message leaves the feed: ``LIFETIME`` after it was created."""
    return message.created_at + LIFETIME


def disaster_message_alert(message: DisasterMessageReceived) -> CapAlert:
    """The message as a CAP 1.2 ``Alert`` with one Korean ``info``, its text as the description."""
    level = _LEVEL_KO.get(message.level, "재난문자")
    event = message.disaster_type_ko.strip() or "재난문자"
    regions = ", ".join(region.strip() for region in message.regions if region.strip())
    info = CapInfo(
        categories=[cap_category_ko(message.disaster_type_ko)],
        event=event,
        urgency="Immediate",
        severity=_SEVERITY.get(message.level, "Unknown"),
        certainty="Observed",
        language="ko-KR",
        expires=expires_at(message),
        headline=f"[{level}] {_shortened(message.text) or event}",
        description=message.text or None,
        areas=[
            CapArea(
                area_desc=regions or "서울특별시",
                geocodes=[CapValue("KR_SIG_CD", code) for code in seoul_district_codes(message)],
            )
        ],
    )
    return CapAlert(
        identifier=message_identifier(message.serial),
        sender=SENDER,
        sent=message.created_at,
        status="Actual",
        msg_type="Alert",
        scope="Public",
        note=f"재난문자 {message.serial} ({level}), relayed by Jikimi",
        infos=[info],
    )


def _shortened(text: str) -> str:
    words = " ".join(text.split())
    return words if len(words) <= _HEADLINE_CHARS else words[: _HEADLINE_CHARS - 1] + "…"
