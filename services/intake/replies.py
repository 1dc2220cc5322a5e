"""What the citizen is told back on their channel, in their language: a pure function."""

from __future__ import annotations

from services.intake.reception import Reception
from shared import guides

__all__ = ["Reply", "reply_for"]


class Reply:
    """Texts (most important first) and the quick answers the citizen can tap."""

    def __init__(self, texts: list[str], quick_replies: list[tuple[str, str]]) -> None:
        self.texts = texts
        self.quick_replies = quick_replies


_KO = {
    "received": "신고가 접수되었습니다. 접수번호 {receipt}\n119 종합상황실이 지금 확인하고 있습니다.",
    "linked": "같은 현장의 다른 신고와 함께 처리하고 있습니다: {title}.",
    "location": "정확한 위치를 알려 주세요. 주소나 건물 이름, 가까운 역을 보내 주시면 됩니다.",
    "duplicate": "이미 접수된 신고입니다. 접수번호 {receipt}",
    "cancelled": "신고를 취소했습니다. 위험하면 언제든 다시 신고하거나 119로 전화하세요.",
    "nothing_to_cancel": "취소할 진행 중인 신고가 없습니다.",
    "urgent": "생명이 위급하면 바로 119로 전화하세요.",
    "send_location": "위치 보내기",
    "cancel": "신고 취소",
}
_EN = {
    "received": "Your report is received. Receipt {receipt}\nThe 119 situation room is looking at it now.",
    "linked": "It is handled together with other reports from the same scene: {title}.",
    "location": "Please tell us exactly where: an address, a building name or the nearest station.",
    "duplicate": "This report was already received. Receipt {receipt}",
    "cancelled": "Your report is cancelled. If you are in danger, report again or call 119.",
    "nothing_to_cancel": "You have no open report to cancel.",
    "urgent": "If a life is in danger, call 119 now.",
    "send_location": "Send location",
    "cancel": "Cancel report",
}


def reply_for(reception: Reception, language: str = "ko") -> Reply:
    """The answer to a message: receipt, what happens next, and the short guide for its type."""
    words = _EN if language.startswith("en") else _KO
    quick = [(words["send_location"], words["send_location"]), (words["cancel"], words["cancel"])]
    report = reception.report
    if reception.cancelled:
        return Reply([words["cancelled"] if report else words["nothing_to_cancel"]], [])
    assert report is not None
    if reception.duplicate:
        return Reply([words["duplicate"].format(receipt=report.receipt)], quick)
    first = words["received"].format(receipt=report.receipt)
    if reception.incident is not None and len(reception.incident.reports) > 1:
        first += "\n" + words["linked"].format(title=reception.incident.title)
    texts = [first]
    if reception.needs_location:
        texts.append(words["location"])
    kind = report.classification.disaster_type
    guide = _short_guide(kind, language) if kind else None
    texts.append(guide or words["urgent"])
    return Reply(texts, quick)


def _short_guide(kind: str, language: str) -> str | None:
    try:
        guide = guides.get_guide(kind)
    except guides.UnknownGuideError:
        return None
    text = guide.en if language.startswith("en") else guide.ko
    return f"[{text.title}]\n{text.short}"
