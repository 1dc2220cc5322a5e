"""A ``WhatIf`` for people: per seat, the recorded run and the what-if in two columns."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from jikimi.whatif.compare import SeatComparison, WhatIf
from jikimi.whatif.report import Invitee, SeatRun

__all__ = ["render_text", "span"]

SEOUL = ZoneInfo("Asia/Seoul")
_OUTCOME = {"accepted": "accepted", "declined": "declined", "timed_out": "timed out", "undeliverable": "undeliverable"}


def span(seconds: float) -> str:
    """``+1m35s``, ``+15m``, ``+1h05m``: a time after the opening, to the second."""
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"+{hours}h{minutes:02d}m" + (f"{secs:02d}s" if secs else "")
    if minutes:
        return f"+{minutes}m" + (f"{secs:02d}s" if secs else "")
    return f"+{secs}s"


def _seconds(value: float | None) -> str:
    if value is None:
        return "never"
    seconds = f"{value:.0f} s" if value >= 10 else f"{value:.1f} s"
    return seconds + (f" ({span(value)[1:]})" if value >= 60 else "")


def render_text(result: WhatIf) -> str:
    """The comparison as lines of text, seats first, the total last."""
    opened = result.opened_at.astimezone(SEOUL).strftime("%Y-%m-%d %H:%M:%S KST")
    closed = f"closed {span(result.closed_after_s)[1:]} later" if result.closed_after_s is not None else "still open"
    lines = [
        f"What-if for incident {result.incident_id}: {result.disaster_type} ({result.severity}), {result.title}",
        f"Opened {opened}, {closed}.",
        f"Policy: recorded {', '.join(result.policy_recorded) or '(none)'} | what-if {result.policy_whatif}",
        result.assumption,
        "",
    ]
    open_at_end = result.closed_after_s is None
    for seat in result.seats:
        lines += _seat(seat, open_at_end=open_at_end)
        lines.append("")
    same = result.departments_recorded == result.departments_whatif
    whatif_departments = "the same" if same else ", ".join(result.departments_whatif) or "none"
    lines += [
        f"Departments: recorded {', '.join(result.departments_recorded) or 'none'} | what-if {whatif_departments}",
        f"Asked in both runs: {', '.join(result.asked_in_both) or 'nobody'}; "
        f"only in the recorded run: {', '.join(result.asked_only_recorded) or 'nobody'}; "
        f"only in the what-if: {', '.join(result.asked_only_whatif) or 'nobody'}",
        f"Seats filled after {_seconds(result.filled_after_s_recorded)} recorded vs "
        f"{_seconds(result.filled_after_s_whatif)} what-if.",
        *result.notes,
    ]
    return "\n".join(lines) + "\n"


def _seat(seat: SeatComparison, *, open_at_end: bool) -> list[str]:
    def plan(run: SeatRun | None) -> str:
        if run is None:
            return "no such seat"
        experts = "expert" if run.count == 1 else "experts"
        return f"{run.count} {experts} within {run.confirm_within_min} min" + (
            "" if run.in_final_plan else " (dropped)"
        )

    rows: dict[str, list[str]] = {}
    order: dict[str, float] = {}
    for column, run in enumerate((seat.recorded, seat.whatif)):
        for invitee in run.invited if run else []:
            rows.setdefault(invitee.expert_id, ["-", "-"])[column] = _invitee(invitee, column, open_at_end)
            order[invitee.expert_id] = min(
                order.get(invitee.expert_id, invitee.invited_after_s), invitee.invited_after_s
            )
    table = [("expert", "recorded", "what-if")]
    table += [(e, *rows[e]) for e in sorted(rows, key=lambda e: order[e])]  # type: ignore[misc]
    table.append(("filled", _filled(seat.recorded), _filled(seat.whatif)))
    width = [max(len(row[i]) for row in table) for i in (0, 1)]
    lines = [f"Seat {seat.field}: recorded {plan(seat.recorded)} | what-if {plan(seat.whatif)}"]
    lines += [f"  {a:<{width[0]}}  {b:<{width[1]}}  {c}".rstrip() for a, b, c in table]
    return lines


def _invitee(invitee: Invitee, column: int, open_at_end: bool) -> str:
    if invitee.outcome == "invited" or invitee.outcome_after_s is None:
        ended = "no answer yet" if open_at_end else "no answer before the close"
    else:
        ended = f"{_OUTCOME[invitee.outcome]} {span(invitee.outcome_after_s)}"
    text = f"invited {span(invitee.invited_after_s)}, {ended}"
    if invitee.released_after_s is not None:
        text += f", released {span(invitee.released_after_s)}"
    if column == 1 and invitee.answer != "recorded":
        text += " (as recorded)" if invitee.answer == "as_recorded" else f" ({invitee.note})"
    return text


def _filled(run: SeatRun | None) -> str:
    if run is None:
        return "-"
    if run.filled_after_s is not None:
        return span(run.filled_after_s)
    if run.unfillable:
        return f"never: {run.unfillable}"
    return f"never ({run.accepted} of {run.count} accepted)"
