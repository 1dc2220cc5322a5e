"""The recorded run beside the sandbox's, as one ``WhatIf`` (see the package's docstring)."""

from __future__ import annotations

import statistics
from datetime import datetime
from uuid import UUID

import msgspec

from jikimi.whatif.inputs import Recorded, RecordedAnswer, open_read_only, read_recorded
from jikimi.whatif.report import Invitee, Run, SeatRun, summarise
from jikimi.whatif.sandbox import Assume, Sandbox
from services.community.policy import SeatPolicy, parse_policy
from services.community.registry import FIELDS, load_departments
from shared.eventlog.application import ServiceApplication
from shared.settings import DatabaseSettings

__all__ = ["DEFAULT_ANSWER_AFTER_S", "SeatComparison", "WhatIf", "compare", "policy_from_text", "whatif"]

DEFAULT_ANSWER_AFTER_S = 60.0
"""How long an assumed answer takes when the incident recorded no answer to measure."""


class SeatComparison(msgspec.Struct, kw_only=True):
    """One seat (field) in both runs; None where that run had no such seat."""

    field: str
    recorded: SeatRun | None
    whatif: SeatRun | None


class WhatIf(msgspec.Struct, kw_only=True):
    """The recorded run of an incident's community beside the run under another policy.
    Times are seconds after the incident opened; ``filled_after_s_*`` None means never."""

    incident_id: UUID
    disaster_type: str
    severity: str
    title: str
    opened_at: datetime
    closed_after_s: float | None
    policy_recorded: list[str]
    policy_whatif: str
    assume: Assume
    assume_after_s: float | None
    assumption: str
    """The sentence that says what experts with no recorded answer were taken to do."""
    seats: list[SeatComparison]
    departments_recorded: list[str]
    departments_whatif: list[str]
    filled_after_s_recorded: float | None
    filled_after_s_whatif: float | None
    asked_in_both: list[str]
    asked_only_recorded: list[str]
    asked_only_whatif: list[str]
    notes: list[str]


def policy_from_text(text: str) -> SeatPolicy:
    """The seat policy in ``text`` (TOML), checked as the service checks its own; raises PolicyError."""
    kinds = frozenset(d.kind for d in load_departments())
    return parse_policy(text, frozenset(FIELDS), kinds)


def whatif(
    database: DatabaseSettings,
    incident_id: UUID,
    policy_text: str,
    assume: Assume = "none",
    assume_after_s: float | None = None,
) -> WhatIf:
    """The incident's recorded run beside its run under ``policy_text``, from the event tables in
    ``database`` (read-only). Raises PolicyError or IncidentNotFoundError."""
    policy = policy_from_text(policy_text)  # a bad file is refused before the database is opened
    intake, community = open_read_only(["intake", "community"], database)
    try:
        return compare(intake, community, incident_id, policy, assume=assume, assume_after_s=assume_after_s)
    finally:
        intake.close()
        community.close()


def compare(
    intake: ServiceApplication,
    community: ServiceApplication,
    incident_id: UUID,
    policy: SeatPolicy,
    *,
    assume: Assume = "none",
    assume_after_s: float | None = None,
) -> WhatIf:
    """The incident in ``intake``'s and ``community``'s logs, recorded and under ``policy``.
    ``assume_after_s`` (for ``accept``, ``decline``) defaults to the median delay of the incident's
    recorded answers, or ``DEFAULT_ANSWER_AFTER_S`` if it has none."""
    recorded = read_recorded(intake, community, incident_id)
    delay = assume_after_s if assume_after_s is not None else _median_answer_s(recorded)
    sandbox = Sandbox(policy, recorded, assume=assume, assume_after_s=delay)
    decided = sandbox.run()
    names = {expert_id: expert.name for expert_id, expert in sandbox.view.experts.items()}
    opened, closed = recorded.opened, recorded.closed
    close_id = closed.id if closed else None
    before, after = (
        summarise(events, incident_id=incident_id, opened_at=opened.recorded_at, close_id=close_id, names=names)
        for events in (recorded.community, decided)
    )
    asked_before = [i.expert_id for s in before.seats for i in s.invited]
    asked_after = [i.expert_id for s in after.seats for i in s.invited]
    _explain(after, sandbox, asked_before, recorded, assume=assume, delay=delay)
    return WhatIf(
        incident_id=incident_id,
        disaster_type=opened.disaster_type,
        severity=opened.severity,
        title=opened.title,
        opened_at=opened.recorded_at,
        closed_after_s=round((closed.recorded_at - opened.recorded_at).total_seconds(), 3) if closed else None,
        policy_recorded=before.policy_versions,
        policy_whatif=policy.version,
        assume=assume,
        assume_after_s=delay if assume in {"accept", "decline"} else None,
        assumption=_assumption(assume, delay, assume_after_s is None),
        seats=_side_by_side(before, after),
        departments_recorded=before.departments,
        departments_whatif=after.departments,
        filled_after_s_recorded=before.filled_after_s,
        filled_after_s_whatif=after.filled_after_s,
        asked_in_both=[e for e in asked_after if e in asked_before],
        asked_only_recorded=[e for e in asked_before if e not in asked_after],
        asked_only_whatif=[e for e in asked_after if e not in asked_before],
        notes=_notes(recorded, policy, before),
    )


def _median_answer_s(recorded: Recorded) -> float:
    delays = [a.after_s for a in recorded.answers().values() if a.outcome in {"accepted", "declined"}]
    return round(statistics.median(delays), 3) if delays else DEFAULT_ANSWER_AFTER_S


def _assumption(assume: Assume, delay: float, measured: bool) -> str:
    if assume in {"none", "timeout"}:
        taken = "none assumed" if assume == "none" else "assumed to time out"
        return (
            f"Experts with no recorded answer: {taken}; their invitation lapses at its deadline and "
            "the next candidate is asked, as the service would do."
        )
    source = "the median of this incident's recorded answers" if measured else "as given"
    verb = "accept" if assume == "accept" else "decline"
    return f"Experts with no recorded answer: assumed to {verb} {delay:g} s after their invitation ({source})."


def _explain(
    run: Run, sandbox: Sandbox, asked_before: list[str], recorded: Recorded, *, assume: Assume, delay: float
) -> None:
    """Say, for each expert the what-if invited, where their answer came from."""
    answers = recorded.answers()
    for seat in run.seats:
        for invitee in seat.invited:
            invitee.answer = sandbox.told.get(invitee.expert_id, "assumed")
            invitee.note = _note(
                invitee, answers.get(invitee.expert_id), invitee.expert_id in asked_before, assume, delay
            )


def _note(invitee: Invitee, known: RecordedAnswer | None, asked_before: bool, assume: Assume, delay: float) -> str:
    if known is not None:
        after = f"{known.after_s:g} s after the invitation"
        if invitee.answer == "lapsed_first":
            return f"recorded answer ({known.outcome} {after}) comes after this policy's deadline"
        if known.outcome == "timed_out":
            return f"as recorded: no answer within {known.after_s:g} s"
        return f"as recorded: {known.outcome} {after}"
    assumed = {
        "none": "none assumed",
        "timeout": "assumed to time out",
        "accept": f"assumed to accept {delay:g} s after",
        "decline": f"assumed to decline {delay:g} s after",
    }[assume]
    if asked_before:
        return f"asked in reality too, but no answer was recorded; {assumed}"
    return f"would have been asked; no recorded answer; {assumed}"


def _side_by_side(before: Run, after: Run) -> list[SeatComparison]:
    recorded = {s.field: s for s in before.seats}
    tried = {s.field: s for s in after.seats}
    fields = [*recorded, *(f for f in tried if f not in recorded)]
    return [SeatComparison(field=f, recorded=recorded.get(f), whatif=tried.get(f)) for f in fields]


def _notes(recorded: Recorded, policy: SeatPolicy, before: Run) -> list[str]:
    notes = [
        "Other incidents and the expert pool are as recorded: an expert the what-if seats here is not "
        "taken from another incident's community. Nothing was sent and nothing was written."
    ]
    if recorded.closed is None:
        notes.append(
            "The incident is still open: the recorded run is as of now; the what-if runs on until nothing "
            "is left to decide."
        )
    if policy.version in before.policy_versions:
        notes.append(f"The policy tried has the recorded policy's version ({policy.version}).")
    return notes
