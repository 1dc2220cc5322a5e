"""Live rooms: one watcher per process follows the log and hands each incident's news to the
streams open on it.

``RoomWatch`` reads community's log once for all open streams, woken by the recorder's own
NOTIFY (so messages posted by another replica arrive too) and every second anyway, and puts each
new message, and each changed community, in the bounded queues of that incident's subscribers.
``follow`` is one stream: the room's history after the client's last message, then what the
watcher hands it, with keep-alives, until its holder is no longer admitted.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from uuid import UUID

import structlog

from services.community.rooms import PAGE, history
from services.community.view import Community, CommunityView, community_id
from shared.eventlog.application import ServiceApplication
from shared.eventlog.notify import listening
from shared.events import CODEC, UnknownEventError
from shared.events.community import MessagePosted

__all__ = ["AccessEnded", "Ping", "RoomUpdate", "RoomWatch"]

log = structlog.get_logger()


@dataclass(frozen=True)
class Ping:
    """Nothing happened for a while: a keep-alive, so proxies keep the connection open."""


@dataclass(frozen=True)
class AccessEnded:
    """The holder is no longer admitted to the room (``reason``: released, declined, left…)."""

    reason: str


class _Lagged:
    """Put in a subscriber's queue instead of what overflowed it: the stream ends, and the
    client reconnects with its Last-Event-ID, rather than the queue growing without bound."""


RoomUpdate = MessagePosted | Community | AccessEnded | Ping
_Item = MessagePosted | Community | _Lagged
_LAGGED = _Lagged()
_BATCH = 1000


class RoomWatch:
    """Follows the log from where it was when the process started; fans out by incident."""

    def __init__(
        self,
        app: ServiceApplication,
        view: CommunityView,
        *,
        database_url: str | None = None,
        poll_s: float = 1.0,
        queue_size: int = 256,
    ) -> None:
        self._app = app
        self._recorder = app.recorder
        self._view = view
        self._database_url = database_url
        self._poll_s = poll_s
        self._queue_size = queue_size
        self._wake = asyncio.Event()
        self._subscribers: defaultdict[UUID, set[asyncio.Queue[_Item]]] = defaultdict(set)
        self.position = 0

    async def start(self) -> None:
        """Begin at the log's end: a stream reads what came before from the room's own history."""
        last: int | None = await asyncio.to_thread(self._recorder.max_notification_id)
        self.position = last or 0

    @contextlib.contextmanager
    def subscribe(self, incident_id: UUID) -> Iterator[asyncio.Queue[_Item]]:
        """A queue of the incident's new messages and community changes while the block runs."""
        queue: asyncio.Queue[_Item] = asyncio.Queue(self._queue_size)
        self._subscribers[incident_id].add(queue)
        try:
            yield queue
        finally:
            self._subscribers[incident_id].discard(queue)
            if not self._subscribers[incident_id]:
                del self._subscribers[incident_id]

    async def run(self, stop: asyncio.Event) -> None:
        """Hand out what the log gains until ``stop`` is set."""
        async with listening(self._recorder, self._database_url, self._wake, stop):
            while not stop.is_set():
                while await self.pump() == _BATCH:
                    pass  # more is waiting: read on before sleeping
                stopping = asyncio.create_task(stop.wait())
                woken = asyncio.create_task(self._wake.wait())
                await asyncio.wait({stopping, woken}, timeout=self._poll_s, return_when=asyncio.FIRST_COMPLETED)
                stopping.cancel()
                woken.cancel()
                self._wake.clear()

    async def pump(self) -> int:
        """Read what the log gained since the last pump and hand it out; how many were read."""
        if not self._subscribers:  # nobody is watching: skip ahead rather than read and decode
            last: int | None = await asyncio.to_thread(self._recorder.max_notification_id)
            self.position = max(self.position, last or 0)
            return 0
        notifications = await asyncio.to_thread(
            self._recorder.select_notifications, self.position, _BATCH, inclusive_of_start=False
        )
        changed: set[UUID] = set()
        for notification in notifications:
            self.position = notification.id
            try:
                event = CODEC.decode(notification.state)
            except UnknownEventError:
                continue  # written by a newer version of the service; its rooms stream from there
            incident = event.incident_id
            if incident is None or incident not in self._subscribers:
                continue
            if isinstance(event, MessagePosted):
                self._hand_out(incident, event)
            elif event.originator_id == community_id(incident):
                changed.add(incident)
        if changed:
            # One catch-up of the shared view for the whole batch, not one per stream.
            await asyncio.to_thread(self._view.catch_up)
            for incident in changed:
                community = self._view.communities.get(community_id(incident))
                if community is not None:
                    self._hand_out(incident, community)
        return len(notifications)

    def _hand_out(self, incident_id: UUID, item: _Item) -> None:
        for queue in list(self._subscribers.get(incident_id, ())):
            try:
                queue.put_nowait(item)
            except asyncio.QueueFull:
                self._subscribers[incident_id].discard(queue)
                while not queue.empty():
                    queue.get_nowait()
                queue.put_nowait(_LAGGED)
                log.warning("room_stream_lagged", incident_id=str(incident_id))

    async def follow(
        self, incident_id: UUID, role: str, subject: str, *, after: int = 0, ping_s: float = 15.0
    ) -> AsyncIterator[RoomUpdate]:
        """The room as ``role:subject`` sees it: the community, messages after number ``after``, then
        each new message and change, a Ping when quiet, and AccessEnded (last) if they are let go."""
        with self.subscribe(incident_id) as inbox:  # before reading: nothing falls between the two
            community = await self._community(incident_id)
            if community is None or not community.admits(role, subject):
                yield AccessEnded(_why_not(community, role, subject))
                return
            yield community
            last = after
            async for message in self._history(incident_id, after=last):
                yield message
                last = message.originator_version
            while True:
                try:
                    item = await asyncio.wait_for(inbox.get(), timeout=ping_s)
                except TimeoutError:
                    yield Ping()
                    continue
                if isinstance(item, _Lagged):
                    return
                if isinstance(item, Community):
                    if not item.admits(role, subject):
                        yield AccessEnded(_why_not(item, role, subject))
                        return
                    yield item
                elif item.originator_version == last + 1:
                    yield item
                    last = item.originator_version
                elif item.originator_version > last:  # the watcher's news skipped a number: read the room
                    async for message in self._history(incident_id, after=last):
                        yield message
                        last = message.originator_version

    async def _community(self, incident_id: UUID) -> Community | None:
        await asyncio.to_thread(self._view.catch_up)
        return self._view.communities.get(community_id(incident_id))

    async def _history(self, incident_id: UUID, *, after: int) -> AsyncIterator[MessagePosted]:
        while True:
            page = await asyncio.to_thread(history, self._app, incident_id, after=after)
            for event in page:
                if isinstance(event, MessagePosted):
                    yield event
                after = event.originator_version
            if len(page) < PAGE:
                return


def _why_not(community: Community | None, role: str, subject: str) -> str:
    if community is None:
        return "no_community"
    if role == "expert":
        invitation = community.invitations.get(subject)
        return invitation.status if invitation is not None else "not_invited"
    if role == "citizen":
        return "left"
    return "not_engaged" if role == "department" else "not_admitted"
