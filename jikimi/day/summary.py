"""What a played day did: counts of what was sent and answered, and every error response."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from uuid import UUID

__all__ = ["Failure", "Given", "Summary"]


@dataclass(frozen=True)
class Failure:
    """A request that did not do what the plan meant: an error response, or no response at all."""

    what: str
    method: str
    path: str
    status: int | None
    detail: str

    def __str__(self) -> str:
        answer = f"{self.status}" if self.status is not None else "no response"
        return f"{self.what}: {self.method} {self.path} → {answer}: {self.detail}"


@dataclass(frozen=True)
class Given:
    """An expert's answer as played: ``ignore`` was left to time out. ``order`` is the answer's
    place in the incident's planned answers."""

    incident: int
    order: int
    expert_id: str
    decision: str
    via: str
    ok: bool = True
    """Whether the service took the answer (an ignored invitation is always ``ok``)."""


@dataclass
class Summary:
    seed: int
    month: int
    planned: int
    speed: float | None
    run: str
    messages: Counter[str] = field(default_factory=Counter)
    rerouted: Counter[str] = field(default_factory=Counter)
    incidents: dict[int, UUID] = field(default_factory=dict)
    operations: Counter[str] = field(default_factory=Counter)
    answers: list[Given] = field(default_factory=list)
    unplanned: int = 0
    """Invitations that reached an expert after the plan's answers for the incident ran out."""
    unreached: int = 0
    """Invitations seen that never reached their expert while the day watched."""
    posts: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)
    """Planned actions not done, by why."""
    notes: Counter[str] = field(default_factory=Counter)
    """Things done otherwise than planned, by what."""
    failures: list[Failure] = field(default_factory=list)
    parked: Counter[str] = field(default_factory=Counter)
    """Messages the services' consumers gave up on while the day played, by consumer."""
    late_s: float = 0.0
    wall_s: float = 0.0

    @property
    def ok(self) -> bool:
        """Whether every request was answered as meant and no service parked a message."""
        return not self.failures and not self.parked

    def fail(self, what: str, method: str, path: str, status: int | None, detail: str) -> None:
        self.failures.append(Failure(what, method, path, status, " ".join(detail.split())[:300]))

    def lines(self, *, failures_shown: int = 10) -> list[str]:
        """A short report for a terminal."""
        pace = (
            "as fast as the services took it" if self.speed is None else f"at {self.speed:g} times the pace of the day"
        )
        minutes, seconds = divmod(round(self.wall_s), 60)
        decisions = Counter(g.decision for g in self.answers if g.ok)
        lines = [
            f"A day to replay: seed {self.seed}, month {self.month}, {self.planned} incidents, run {self.run}",
            f"  played in {minutes}m{seconds:02d}s {pace}"
            + (f" (at most {self.late_s:.1f} s behind the plan)" if self.speed is not None else ""),
            f"  messages   {sum(self.messages.values())} sent: " + _counts(self.messages),
        ]
        if self.rerouted:
            lines.append(
                f"             sent through the web API, their channel's secret unset: {_counts(self.rerouted)}"
            )
        lines += [
            f"  incidents  {len(self.incidents)} of {self.planned} opened",
            f"  operators  {_counts(self.operations) or 'nothing'}",
            f"  experts    accepted {decisions['accept']}, declined {decisions['decline']},"
            f" left to time out {decisions['ignore']}"
            + (f"; {self.unplanned} more reached experts past the plan's answers" if self.unplanned else ""),
            f"  rooms      {sum(self.posts.values())} posts: {_counts(self.posts) or 'none'}",
        ]
        if self.unreached:
            lines.insert(
                -1,
                f"             {self.unreached} invitations never reached their expert while the day watched"
                + ("" if self.answers else " (broadcast has no channel to them? see jikimi day --phones)"),
            )
        if self.skipped:
            lines.append(f"  skipped    {_counts(self.skipped)}")
        if self.notes:
            lines.append(f"  notes      {_counts(self.notes)}")
        if self.parked:
            lines.append(f"  parked     {_counts(self.parked)} (messages a consumer gave up on: see its log)")
        lines.append(f"  failures   {len(self.failures)}")
        lines += [f"    {failure}" for failure in self.failures[:failures_shown]]
        if len(self.failures) > failures_shown:
            lines.append(f"    … and {len(self.failures) - failures_shown} more")
        return lines


def _counts(counter: Counter[str]) -> str:
    return ", ".join(f"{name} {count}" for name, count in counter.most_common())
