"""Community's own decision code, run on an in-memory log and fed one incident's recorded inputs.

The sandbox is a ``CommunityView`` over an eventsourcing POPO application and the service's own
``Reactions``, ``answer`` and ``expire_due``: nothing here ranks or seats anyone. It plays, in the
order of their recorded times:

- the rest of community's log as recorded (the pool, and every other incident's community, so an
  expert busy elsewhere is busy here too), folded into the view;
- the incident's intake events, handled by ``Reactions`` at their recorded times;
- what followed each invitation the sandbox sends: the expert's recorded answer at the same delay
  after their invitation if reality asked them too, else the assumed one; broadcast's recorded
  receipt; the deadline, where ``expire_due`` times the invitation out and asks the next candidate.

No NATS, no broadcast, no database: its events stay in memory.
"""

from __future__ import annotations

import heapq
import itertools
import secrets
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Literal
from uuid import NAMESPACE_URL, uuid5

from jikimi.whatif.inputs import Recorded, RecordedAnswer
from services.community.application import CommunityApplication
from services.community.invitations import AnswerError, answer, expire_due
from services.community.policy import SeatPolicy
from services.community.reactions import Reactions
from services.community.registry import Expert, load_departments, sealed_departments
from services.community.seating import refill, release
from services.community.view import CommunityView, community_id
from shared.events import Event
from shared.events.broadcast import DeliveryDelivered, DeliveryFailed
from shared.events.community import (
    ExpertAvailabilityChanged,
    ExpertChanged,
    ExpertRetired,
    MemberInvited,
)
from shared.privacy import Privacy

__all__ = ["Assume", "Sandbox", "Told"]

Assume = Literal["none", "accept", "decline", "timeout"]
"""The answer given for an expert with no recorded answer: none (their invitation lapses, as
with ``timeout``), or accept or decline after a set delay."""

Told = Literal["as_recorded", "assumed", "lapsed_first"]
"""Where the sandbox's answer for an expert came from (``lapsed_first``: the recorded answer came
later than the invitation's deadline under the policy tried, so it times out instead)."""

_SANDBOX_ENV = {"PERSISTENCE_MODULE": "eventsourcing.popo"}  # wins over the process environment
_INPUT, _ANSWER, _DEADLINE = 0, 1, 2  # order of what falls due at the same instant (the log before all)

Action = Callable[[datetime], Sequence[Event]]


class Sandbox:
    """One incident replayed under ``policy``; ``run()`` returns the community events it decided."""

    def __init__(self, policy: SeatPolicy, recorded: Recorded, *, assume: Assume, assume_after_s: float) -> None:
        self.app = CommunityApplication(env=_SANDBOX_ENV)
        self.view = CommunityView(self.app.recorder)
        # Sealed with a key of its own: the sandbox never opens a department's address.
        departments = sealed_departments(load_departments(), Privacy(secrets.token_bytes(32)).seal_address)
        self.reactions = Reactions(self.view, departments, policy)
        self.recorded = recorded
        self.incident_id = recorded.opened.originator_id
        self.stream = community_id(self.incident_id)
        self.answers: Mapping[str, RecordedAnswer] = recorded.answers()
        self.deliveries = recorded.deliveries()
        self.assume, self.assume_after_s = assume, assume_after_s
        self.decided: list[Event] = []
        self.told: dict[str, Told] = {}
        self._due: list[tuple[datetime, int, int, Action]] = []
        self._order = itertools.count()

    def run(self) -> list[Event]:
        """Play the recorded inputs to the end: the incident closed, or nothing is left to happen."""
        world = _Peek(self.recorded.world)
        for event in self.recorded.incident:
            self._at(event.recorded_at, _INPUT, self._input(event))
        while self._due:
            if (head := world.peek()) is not None and head.recorded_at <= self._due[0][0]:
                self._commit(self._world_event(next(world)))
                continue  # what it caused may be due first
            when, _, _, action = heapq.heappop(self._due)
            self._commit(action(when))
            community = self.view.communities.get(self.stream)
            if community is not None and community.closed:
                break
        return self.decided

    def _at(self, when: datetime, kind: int, action: Action) -> None:
        heapq.heappush(self._due, (when, kind, next(self._order), action))

    def _commit(self, events: Sequence[Event]) -> None:
        """Record what was decided in the sandbox's own log and fold it in, as the service's writer
        does; then schedule what each new invitation leads to."""
        events = [e for e in events if e.originator_id == self.stream]
        if not events:
            return
        self.app.record(*events)
        for event in events:
            self.view.apply(event)
            self.decided.append(event)
            if isinstance(event, MemberInvited):
                self._follow(event)

    def _follow(self, invited: MemberInvited) -> None:
        sent, expert = invited.occurred_at, invited.expert_id
        self._at(invited.expires_at, _DEADLINE, lambda now: expire_due()(self.view, now).events)
        delivery = self.deliveries.get(expert)
        if delivery is not None:
            self._at(sent + timedelta(seconds=delivery.after_s), _ANSWER, self._receipt(invited, delivery.channel))
        known = self.answers.get(expert)
        if known is not None:
            when = sent + timedelta(seconds=known.after_s)
            self.told[expert] = "as_recorded"
            if known.outcome in {"accepted", "declined"}:
                if when > invited.expires_at:
                    self.told[expert] = "lapsed_first"
                reply = self._answer(expert, accept=known.outcome == "accepted", by=known.by, reason=known.reason)
                self._at(when, _ANSWER, reply)
            elif known.outcome == "undeliverable":
                self._at(when, _ANSWER, self._receipt(invited, "", error=known.reason or "undeliverable"))
            return  # a recorded time-out needs nothing: the deadline comes
        self.told[expert] = "assumed"
        if self.assume in {"accept", "decline"}:
            reply = self._answer(expert, accept=self.assume == "accept", by="what-if:assumed", reason="assumed")
            self._at(sent + timedelta(seconds=self.assume_after_s), _ANSWER, reply)

    def _input(self, event: Event) -> Action:
        return lambda _: self.reactions.handle(event)  # decided at the event's own recorded time

    def _answer(self, expert_id: str, *, accept: bool, by: str, reason: str) -> Action:
        def act(now: datetime) -> Sequence[Event]:
            try:
                return answer(self.incident_id, expert_id, accept=accept, by=by, reason=reason)(self.view, now).events
            except AnswerError:
                return ()  # lapsed or released first under this policy: as the service would refuse it

        return act

    def _receipt(self, invited: MemberInvited, channel: str, *, error: str = "") -> Action:
        """Broadcast's receipt for the invitation, as it would arrive (delivered, or reached on no channel)."""

        def act(now: datetime) -> Sequence[Event]:
            common: dict[str, Any] = {
                "originator_id": uuid5(NAMESPACE_URL, f"jikimi:whatif:delivery:{invited.id}"),
                "originator_version": 1,
                "incident_id": self.incident_id,
                "occurred_at": now,
                "recorded_at": now,
                "service": "broadcast",
            }
            receipt: Event
            if error:
                receipt = DeliveryFailed(
                    **common, attempt=1, channel="", error=error, kind="invitation", recipient=invited.expert_id
                )
            else:
                receipt = DeliveryDelivered(
                    **common, attempt=1, channel=channel, kind="invitation", recipient=invited.expert_id
                )
            return self.reactions.handle(receipt)

        return act

    def _world_event(self, event: Event) -> Sequence[Event]:
        """Fold in one event of the rest of the log; a change to the pool that released the expert
        elsewhere releases them here too (as ``pool`` does for every community) and asks the next."""
        if not isinstance(event, ExpertRetired | ExpertAvailabilityChanged | ExpertChanged):
            self.view.apply(event)
            return ()
        before = self.view.experts.get(event.expert_id)
        self.view.apply(event)
        community = self.view.communities.get(self.stream)
        released = _released_by(event, before)
        if community is None or community.closed or released is None:
            return ()
        statuses, fields, why = released
        invitation = community.invitations.get(event.expert_id)
        if invitation is None or invitation.status not in statuses:
            return ()
        if fields is not None and invitation.seat_field not in fields:
            return ()
        now = event.occurred_at  # when the pool changed, as its releases elsewhere were decided
        notice = release(community, invitation, reason=why.format(field=invitation.seat_field), view=self.view, now=now)
        after = self.view.folded(community, notice)
        return [notice, *refill(after, invitation.seat_field, version=after.version + 1, view=self.view, now=now)]


def _released_by(event: Event, before: Expert | None) -> tuple[set[str], set[str] | None, str] | None:
    """Which invitations a pool event ends (statuses, fields or all, reason), mirroring
    ``services.community.pool``: retired ends seats too; unavailable or a dropped field, open ones."""
    if isinstance(event, ExpertRetired):
        why = f"retired from the pool: {event.reason}" if event.reason else "retired from the pool"
        return {"invited", "accepted"}, None, why
    if isinstance(event, ExpertAvailabilityChanged) and not event.available:
        why = f"marked unavailable: {event.reason}" if event.reason else "marked unavailable"
        return {"invited"}, None, why
    if isinstance(event, ExpertChanged) and before is not None:
        dropped = {str(f) for f in before.fields} - set(event.profile.fields)
        return ({"invited"}, dropped, f"no longer an expert of {{field}} ({event.by})") if dropped else None
    return None


class _Peek:
    """An iterator whose next item can be looked at first."""

    def __init__(self, items: Iterator[Event]) -> None:
        self._items, self._head = items, next(items, None)

    def peek(self) -> Event | None:
        return self._head

    def __iter__(self) -> Iterator[Event]:
        return self

    def __next__(self) -> Event:
        if self._head is None:
            raise StopIteration
        head, self._head = self._head, next(self._items, None)
        return head
