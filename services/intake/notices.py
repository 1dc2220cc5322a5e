"""What a reporter is told later, on their own channel, as their report's incident moves.

The first answer (received, receipt, guide) goes back in the channel's own reply. Later news
(an operator put the report into an incident: help is on the way; the incident is closed) is
queued as an event in the same transaction as the change that caused it, one per reporter and
status, for broadcast to deliver. Reports from the web page get none: the page asks for its
status instead.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import NAMESPACE_URL, UUID, uuid5

from services.intake.domain import Incident, Report
from shared.events.intake import ReporterNoticeQueued

__all__ = ["NOTIFIED_CHANNELS", "notice_for"]

NOTIFIED_CHANNELS = frozenset({"kakao", "telegram", "sms"})

Status = Literal["in_incident", "closed"]

_TEXTS: dict[Status, dict[str, str]] = {
    "in_incident": {
        "ko": "[119] 접수번호 {receipt} 신고가 '{title}' 사건으로 처리되고 있습니다. 대응 인력이 연결되고 있어요.",
        "en": "[119] Report {receipt} is being handled as '{title}'. Responders are being brought in.",
    },
    "closed": {
        "ko": "[119] 접수번호 {receipt} 신고와 관련된 '{title}' 사건이 종료되었습니다. 신고해 주셔서 고맙습니다.",
        "en": "[119] '{title}', the incident of your report {receipt}, is closed. Thank you for reporting.",
    },
}


def notice_for(
    report: Report, incident: Incident, status: Status, *, cause: UUID, now: datetime
) -> ReporterNoticeQueued | None:
    """The notice for ``report``'s reporter, or None when their channel cannot be written to."""
    if report.channel not in NOTIFIED_CHANNELS or not report.reply_to_sealed or report.cancelled:
        return None
    language = "en" if _english(report) else "ko"
    notice_id = uuid5(NAMESPACE_URL, f"jikimi:notice:{report.id}:{status}:{cause}")
    return ReporterNoticeQueued(
        originator_id=notice_id,
        originator_version=1,
        incident_id=incident.id,
        correlation_id=incident.id,
        causation_id=cause,
        occurred_at=now,
        report_id=report.id,
        reporter=report.sender,
        channel=report.channel,
        status=status,
        text=_TEXTS[status][language].format(receipt=report.receipt, title=incident.title),
        language=language,
        reply_to_sealed=report.reply_to_sealed,
    )


def _english(report: Report) -> bool:
    """English when the report's text is mostly Latin letters (Telegram's language code is the
    phone's, not the text's)."""
    letters = [c for c in report.text if c.isalpha()]
    return bool(letters) and sum(c.isascii() for c in letters) > len(letters) / 2
