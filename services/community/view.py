"""The community service's current state, folded from its own log: communities and expert load."""

from __future__ import annotations

from collections import Counter
from uuid import NAMESPACE_URL, UUID, uuid5

import msgspec
from eventsourcing.persistence import ApplicationRecorder

from shared.eventlog.view import LogView
from shared.events import Event
from shared.events.community import CommunityAssembled, MemberInvited, ReporterJoined, ReporterLeft

__all__ = ["Community", "CommunityView", "community_id"]


def community_id(incident_id: UUID) -> UUID:
    """An incident has one community; its id follows from the incident's."""
    return uuid5(NAMESPACE_URL, f"jikimi:community:{incident_id}")


class Community(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    incident_id: UUID
    version: int
    disaster_type: str
    severity: str
    reporters_join: bool
    invited: frozenset[str] = frozenset()
    reporters: frozenset[str] = frozenset()


class CommunityView(LogView):
    """Communities by id, and how many communities each expert is in (their load)."""

    def __init__(self, recorder: ApplicationRecorder) -> None:
        super().__init__(recorder)
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.position = 0
            self.communities: dict[UUID, Community] = {}

    def apply(self, event: Event) -> None:
        with self.lock:
            current = self.communities.get(event.originator_id)
            if event.originator_version != (current.version if current else 0) + 1:
                return
            after = _apply(current, event)
            if after is not None:
                self.communities[after.id] = after

    def load(self) -> Counter[str]:
        """Open invitations and memberships per expert."""
        with self.lock:
            return Counter(expert for c in self.communities.values() for expert in c.invited)


def _apply(community: Community | None, event: Event) -> Community | None:
    if isinstance(event, CommunityAssembled):
        assert event.incident_id is not None
        return Community(
            id=event.originator_id,
            incident_id=event.incident_id,
            version=event.originator_version,
            disaster_type=event.disaster_type,
            severity=event.severity,
            reporters_join=event.reporters_join,
        )
    if community is None:
        return None
    community = msgspec.structs.replace(community, version=event.originator_version)
    if isinstance(event, MemberInvited):
        return msgspec.structs.replace(community, invited=community.invited | {event.expert_id})
    if isinstance(event, ReporterJoined):
        return msgspec.structs.replace(community, reporters=community.reporters | {event.reporter})
    if isinstance(event, ReporterLeft):
        return msgspec.structs.replace(community, reporters=community.reporters - {event.reporter})
    return community
