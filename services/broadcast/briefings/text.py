"""A report as people read it: Korean plain text for departments' channels, and an HTML page.

The HTML escapes every value it shows (operators' update texts are free text), and the page
loads nothing: no script, no outside resource.
"""

from __future__ import annotations

from html import escape

from services.broadcast.briefings.names import district_ko, field_ko, kst, severity_ko, type_ko
from shared.events.broadcast import SitRep

__all__ = ["briefing_html", "briefing_text"]

_VERSION_KO = {"Initial": "최초", "Update": "갱신", "Final": "최종"}
_STATUS_KO = {"invited": "초청 중", "accepted": "참여"}


def _casualties(sitrep: SitRep) -> str:
    c = sitrep.body.casualties
    if c.injured is None and c.dead is None:
        return "확인 중"
    injured = "미상" if c.injured is None else f"{c.injured}명"
    dead = "미상" if c.dead is None else f"{c.dead}명"
    return f"부상 {injured}, 사망 {dead} ({kst(c.as_of)} 기준)"


def _seat_lines(sitrep: SitRep) -> list[str]:
    lines = []
    for s in sitrep.body.resources.seats:
        line = f"{field_ko(s.field)} {s.filled}/{s.needed}"
        if s.invited:
            line += f" (초청 중 {s.invited})"
        if s.unfillable:
            line += " — 충원 불가"
        lines.append(line)
    return lines


def _where(sitrep: SitRep) -> str:
    s = sitrep.body.situation
    return " ".join(part for part in (s.district or district_ko(s.district_code), s.place) if part) or "위치 확인 중"


def briefing_text(sitrep: SitRep) -> str:
    """The report in a few Korean lines: what, where, how bad, who responds, what's next."""
    s = sitrep.body.situation
    head = (
        f"[지키미 상황보고 제{sitrep.report_number}보 · {_VERSION_KO.get(sitrep.report_version, '')}] "
        f"{_where(sitrep)} {type_ko(s.disaster_type)} — {severity_ko(sitrep.severity)}"
    )
    lines = [head]
    if s.title:
        lines.append(f"개요: {s.title}")
    lines.append(f"사고 ID: {sitrep.incident_ids[0] if sitrep.incident_ids else '-'}")
    lines.append(f"신고 {s.reports}건 · 사상자: {_casualties(sitrep)}")
    if s.changes:
        lines.append("변경: " + "; ".join(s.changes))
    if seats := _seat_lines(sitrep):
        lines.append("전문가: " + ", ".join(seats))
    if departments := sitrep.body.resources.departments:
        lines.append("참여 기관: " + ", ".join(d.name for d in departments))
    if s.updates:
        latest = s.updates[-1]
        lines.append(f"최근 상황({kst(latest.at, '%H:%M')}): {latest.text}")
    if sitrep.report_version == "Final":
        lines.append(f"종결: {s.outcome}" if s.outcome else "종결")
    else:
        nxt = kst(sitrep.next_report_at, "%H:%M") if sitrep.next_report_at else "변경 시"
        lines.append(f"다음 보고: {nxt}")
    return "\n".join(lines)


def _row(label: str, value: object) -> str:
    return f"<tr><th>{escape(label)}</th><td>{escape(str(value))}</td></tr>"


def briefing_html(sitrep: SitRep) -> str:
    """The report as a self-contained HTML page; every value escaped."""
    s = sitrep.body.situation
    title = f"상황보고 제{sitrep.report_number}보 ({sitrep.report_version})"
    summary = [
        _row("사고", f"{type_ko(s.disaster_type)} — {s.title}"),
        _row("심각도", severity_ko(sitrep.severity)),
        _row("장소", _where(sitrep)),
        _row("신고", f"{s.reports}건"),
        _row("사상자", _casualties(sitrep)),
        _row("보고 기간", f"{kst(sitrep.period_from)} ~ {kst(sitrep.period_to)}"),
        _row("작성", f"{sitrep.prepared_by}, {kst(sitrep.prepared_at)}"),
        _row("목적", sitrep.purpose),
        _row("다음 보고", kst(sitrep.next_report_at) if sitrep.next_report_at else "-"),
        _row("메시지 ID", sitrep.message_id),
    ]
    seats = [
        f"<tr><td>{escape(field_ko(x.field))}</td><td>{x.filled}/{x.needed}</td><td>{x.invited}</td>"
        f"<td>{'충원 불가: ' + escape(x.reason) if x.unfillable else ''}</td></tr>"
        for x in sitrep.body.resources.seats
    ]
    members = [
        f"<li>{escape(m.expert_id)} — {escape(field_ko(m.field))} ({escape(_STATUS_KO.get(m.status, m.status))})</li>"
        for m in sitrep.body.resources.members
    ]
    departments = [f"<li>{escape(d.name)} ({escape(d.id)})</li>" for d in sitrep.body.resources.departments]
    changes = [f"<li>{escape(c)}</li>" for c in s.changes]
    updates = [f"<li><time>{escape(kst(u.at))}</time> {escape(u.text)}</li>" for u in s.updates]
    return "\n".join(
        [
            "<!doctype html>",
            '<html lang="ko"><head><meta charset="utf-8">',
            f"<title>{escape(title)}</title>",
            "<style>body{font-family:sans-serif;max-width:48rem;margin:1rem auto}th{text-align:left}</style>",
            "</head><body>",
            f"<h1>{escape(title)}</h1>",
            f"<table>{''.join(summary)}</table>",
            f"<h2>변경 사항</h2><ul>{''.join(changes) or '<li>없음</li>'}</ul>",
            f"<h2>최근 상황</h2><ul>{''.join(updates) or '<li>없음</li>'}</ul>",
            "<h2>전문가 자리</h2><table><tr><th>분야</th><th>참여/필요</th><th>초청 중</th><th></th></tr>",
            f"{''.join(seats)}</table>",
            f"<ul>{''.join(members)}</ul>",
            f"<h2>참여 기관</h2><ul>{''.join(departments) or '<li>없음</li>'}</ul>",
            "</body></html>",
        ]
    )
