"""What the logs recorded about one incident, read without writing a row.

Three parts: the incident's own stream in intake's log (what community reacted to), the incident's
community stream in community's log (what was decided and how the experts answered), and the rest
of community's log (the expert pool and every other incident's community: who was busy elsewhere),
read lazily in log order.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Literal
from uuid import UUID

import msgspec
from eventsourcing.persistence import ApplicationRecorder, ProcessRecorder
from eventsourcing.postgres import PostgresFactory

from services.community.view import community_id
from shared.eventlog.application import ServiceApplication
from shared.events import CODEC, Event, family_of
from shared.events.community import (
    InvitationAccepted,
    InvitationDeclined,
    InvitationDelivered,
    InvitationTimedOut,
    InvitationUndeliverable,
    MemberInvited,
)
from shared.events.intake import IncidentClosed, IncidentOpened
from shared.settings import DatabaseSettings, database_env

__all__ = [
    "IncidentNotFoundError",
    "Recorded",
    "RecordedAnswer",
    "RecordedDelivery",
    "open_read_only",
    "read_recorded",
]

_SKIPPED_FAMILIES = frozenset({"community.message_posted"})  # room messages: no decision reads them


class IncidentNotFoundError(LookupError):
    """Raised when intake's log has no incident with the id (or it never opened)."""


class RecordedAnswer(msgspec.Struct, frozen=True):
    """How an invited expert's invitation ended in reality, ``after_s`` seconds after it was sent."""

    outcome: Literal["accepted", "declined", "timed_out", "undeliverable"]
    after_s: float
    seat_field: str
    reason: str = ""
    by: str = ""
    delivery_id: UUID | None = None


class RecordedDelivery(msgspec.Struct, frozen=True):
    """Broadcast delivered the invitation on ``channel``, ``after_s`` seconds after it was sent."""

    channel: str
    after_s: float
    delivery_id: UUID | None = None


@dataclasses.dataclass
class Recorded:
    """One incident's recorded inputs and decisions, and the rest of community's log."""

    incident: list[Event]
    """The incident's stream in intake's log, in order; ``IncidentOpened`` first."""
    community: list[Event]
    """The incident's community stream as recorded, in order."""
    world: Iterator[Event]
    """Community's log without this incident's community, in log order (read as it is consumed)."""

    @property
    def opened(self) -> IncidentOpened:
        opened = self.incident[0]
        assert isinstance(opened, IncidentOpened)
        return opened

    @property
    def closed(self) -> IncidentClosed | None:
        return next((e for e in self.incident if isinstance(e, IncidentClosed)), None)

    def answers(self) -> dict[str, RecordedAnswer]:
        """Each invited expert's recorded answer (experts released or still invited have none)."""
        invited_at: dict[str, datetime] = {}
        answers: dict[str, RecordedAnswer] = {}
        for event in self.community:
            if isinstance(event, MemberInvited):
                invited_at[event.expert_id] = event.occurred_at
                continue
            if not isinstance(
                event, InvitationAccepted | InvitationDeclined | InvitationTimedOut | InvitationUndeliverable
            ):
                continue
            sent = invited_at.get(event.expert_id)
            if sent is None:
                continue
            after_s = (event.occurred_at - sent).total_seconds()
            if isinstance(event, InvitationAccepted):
                answer = RecordedAnswer("accepted", after_s, event.seat_field, by=event.by)
            elif isinstance(event, InvitationDeclined):
                answer = RecordedAnswer("declined", after_s, event.seat_field, reason=event.reason, by=event.by)
            elif isinstance(event, InvitationTimedOut):
                answer = RecordedAnswer("timed_out", after_s, event.seat_field)
            else:
                answer = RecordedAnswer(
                    "undeliverable", after_s, event.seat_field, reason=event.error, delivery_id=event.delivery_id
                )
            answers[event.expert_id] = answer
        return answers

    def deliveries(self) -> dict[str, RecordedDelivery]:
        """Where and when each invitation reached its expert, as broadcast reported it."""
        invited_at = {e.expert_id: e.occurred_at for e in self.community if isinstance(e, MemberInvited)}
        return {
            e.expert_id: RecordedDelivery(
                e.channel, (e.occurred_at - invited_at[e.expert_id]).total_seconds(), e.delivery_id
            )
            for e in self.community
            if isinstance(e, InvitationDelivered) and e.expert_id in invited_at
        }


def read_recorded(intake: ServiceApplication, community: ServiceApplication, incident_id: UUID) -> Recorded:
    """The incident's recorded inputs from intake's and community's logs; raises
    ``IncidentNotFoundError`` when intake never opened it."""
    incident = intake.get_stream(incident_id)
    if not incident or not isinstance(incident[0], IncidentOpened):
        msg = f"no incident {incident_id} was opened in intake's log"
        raise IncidentNotFoundError(msg)
    stream = community_id(incident_id)
    return Recorded(incident, community.get_stream(stream), _world(community.recorder, without=stream))


def _world(recorder: ApplicationRecorder, *, without: UUID, batch: int = 5000) -> Iterator[Event]:
    position = 0
    while notifications := recorder.select_notifications(position, batch, inclusive_of_start=False):
        for n in notifications:
            position = n.id
            if n.originator_id == without or family_of(n.topic) in _SKIPPED_FAMILIES:
                continue
            if n.topic.startswith("community."):
                yield CODEC.decode(n.state)
        if len(notifications) < batch:
            return


class _ReadOnlyLog(ServiceApplication):
    """A service's log opened for reading: its PostgreSQL sessions refuse every write."""

    def construct_recorder(self) -> ProcessRecorder:
        if isinstance(self.factory, PostgresFactory):
            # On the pool before the recorder is made (making it opens the pool's first connection):
            # every session is read-only, so nothing here can write to the deployment's tables.
            self.factory.datastore.pool.kwargs["options"] = "-c default_transaction_read_only=on"  # type: ignore[index]
        return super().construct_recorder()


def open_read_only(names: Sequence[str], database: DatabaseSettings) -> list[ServiceApplication]:
    """The logs of the services ``names`` in ``database``, opened read-only (one connection each)."""
    env = database_env(dataclasses.replace(database, pool_size=1))
    return [type(f"ReadOnly_{name}", (_ReadOnlyLog,), {"name": name})(env=env) for name in names]
