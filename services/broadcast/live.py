"""Members' live streams: everything addressed to a member, in order, resumable without gap or
duplicate, over Server-Sent Events and WebSocket.

A member is ``role:id`` (``expert:EXP-012``, ``department:FS-11440``; ``operator:*`` stands for
every operator). Every item of a member's stream is a delivery in broadcast's log: their
invitations and release notices, their department's briefings, and the messages of their rooms
(``fan_out`` turns each ``MessagePosted`` into one ``LiveFannedOut``: a delivery per member of
the room but its author, recorded as one event). An item's id is the log position of the event
that requested it, so ``Last-Event-ID`` resumes right after the last item a client saw, in the
log's order.

``LiveHub`` reads broadcast's log once for all open streams (woken by the recorder's NOTIFY, and
every second anyway), keeps each member's recent items, hands new ones to the member's open
streams (bounded queues: a client that cannot keep up is cut off and resumes by its
Last-Event-ID), records live deliveries delivered once they reached an open stream (one commit
per round), and records what a member acknowledges as seen.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Iterator, Sequence
from datetime import datetime
from uuid import NAMESPACE_URL, UUID, uuid5

import msgspec
import structlog
from eventsourcing.persistence import IntegrityError

from services.broadcast.domain import DELIVERY_TAGS, LIVE
from shared.eventlog.application import ServiceApplication
from shared.eventlog.notify import listening
from shared.events import CODEC, Event, UnknownEventError, family_of, utc_now
from shared.events.broadcast import (
    DeliveryAcknowledged,
    DeliveryDelivered,
    DeliveryRequested,
    LiveFannedOut,
    LiveReached,
    live_delivery_id,
    member_of,
)
from shared.events.community import MessagePosted

__all__ = ["Lagged", "LiveHub", "LiveItem", "fan_out", "member_of"]

log = structlog.get_logger()

_KEEP = 5000  # items kept per member: enough to resume after any realistic disconnection
_BATCH = 2000


def fan_out(event: Event) -> Sequence[Event]:
    """A consumer handler: a room message becomes one fan-out to every member but its author (one
    event however large the room; each member's delivery has its own id within it)."""
    if not isinstance(event, MessagePosted):
        return ()
    data = {"author": event.author, "number": str(event.originator_version)}
    if event.lat is not None and event.lon is not None:
        data |= {"lat": str(event.lat), "lon": str(event.lon)}
    if event.photo_ref:
        data["photo_ref"] = event.photo_ref
    members = [member for member in dict.fromkeys(event.audience) if member != event.author]
    if not members:
        return ()
    return [
        LiveFannedOut(
            originator_id=uuid5(NAMESPACE_URL, f"jikimi:fan-out:{event.id}"),
            originator_version=1,
            incident_id=event.incident_id,
            causation_id=event.id,
            correlation_id=event.correlation_id or event.incident_id,
            members=members,
            kind="room_message",
            text=event.text,
            data=data,
        )
    ]


class LiveItem(msgspec.Struct, frozen=True):
    """One item of a member's stream (what the SSE ``data`` and the WebSocket frame carry)."""

    id: int
    delivery_id: UUID
    kind: str
    incident_id: UUID | None
    text: str
    at: datetime
    data: dict[str, str] = msgspec.field(default_factory=dict)


class Lagged:
    """Put in a stream's queue instead of what overflowed it: the stream ends, and the client
    resumes with its Last-Event-ID, rather than the queue growing without bound."""


_LAGGED = Lagged()


class _Known(msgspec.Struct):
    member: str
    version: int
    live: bool
    kind: str
    recipient: str
    incident_id: UUID | None
    fan_out: UUID | None = None
    """The fan-out the delivery is part of (its reaching a stream is recorded on the fan-out's stream)."""


class LiveHub:
    """Follows broadcast's log for the live streams of this process."""

    def __init__(
        self,
        app: ServiceApplication,
        *,
        database_url: str | None = None,
        poll_s: float = 1.0,
        queue_size: int = 1024,
        keep_alive_s: float = 15.0,
    ) -> None:
        self._app = app
        self._database_url = database_url
        self._poll_s = poll_s
        self._queue_size = queue_size
        self._keep_alive_s = keep_alive_s
        self._wake = asyncio.Event()
        self._items: defaultdict[str, deque[LiveItem]] = defaultdict(lambda: deque(maxlen=_KEEP))
        self._known: dict[UUID, _Known] = {}
        self._streams: defaultdict[str, set[asyncio.Queue[LiveItem | Lagged | None]]] = defaultdict(set)
        self._reached: set[UUID] = set()
        self._fan_out_versions: dict[UUID, int] = {}
        self._acknowledged: set[UUID] = set()
        self.position = 0

    async def start(self) -> None:
        """Read the log so far (members resume from it), before any stream opens."""
        while await self.pump() == _BATCH:
            pass

    async def run(self, stop: asyncio.Event) -> None:
        """Follow the log until ``stop`` is set."""
        loop = asyncio.get_running_loop()
        next_keep_alive = loop.time() + self._keep_alive_s
        async with listening(self._app.recorder, self._database_url, self._wake, stop):
            while not stop.is_set():
                while await self.pump() == _BATCH:
                    pass
                await self._record_reached()
                if loop.time() >= next_keep_alive:
                    next_keep_alive = loop.time() + self._keep_alive_s
                    self._keep_alive()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=self._poll_s)
                self._wake.clear()

    async def pump(self) -> int:
        """Take in what the log gained: index it by member, hand it to open streams."""
        recorder = self._app.recorder
        notifications = await asyncio.to_thread(
            recorder.select_notifications, self.position, _BATCH, inclusive_of_start=False
        )
        for notification in notifications:
            self.position = notification.id
            if family_of(notification.topic) not in DELIVERY_TAGS:
                continue  # briefing facts, subscriptions: nothing a member's stream shows
            try:
                event = CODEC.decode(notification.state)
            except UnknownEventError:
                continue
            self._take(notification.id, event)
        return len(notifications)

    def _take(self, position: int, event: Event) -> None:
        if isinstance(event, LiveFannedOut):
            self._take_fan_out(position, event)
        elif isinstance(event, LiveReached):
            self._fan_out_versions[event.originator_id] = event.originator_version
            for member in event.members:
                if (known := self._known.get(live_delivery_id(event.originator_id, member))) is not None:
                    known.live = False
        elif isinstance(event, DeliveryRequested):
            member = member_of(event.recipient, event.kind)
            live = event.channel == LIVE
            self._known[event.originator_id] = _Known(
                member, event.originator_version, live, event.kind, event.recipient, event.incident_id
            )
            text = event.text.replace(": {link}", "").replace("{link}", "")  # links go only to their channel
            item = LiveItem(
                position, event.originator_id, event.kind, event.incident_id, text, event.recorded_at, event.data
            )
            self._hand_out(member, item, live=live)
        elif (known := self._known.get(event.originator_id)) is not None:
            known.version = max(known.version, event.originator_version)
            if isinstance(event, DeliveryDelivered):
                known.live = False  # delivered: nothing more to record for it
            elif isinstance(event, DeliveryAcknowledged):
                self._acknowledged.add(event.originator_id)

    def _take_fan_out(self, position: int, event: LiveFannedOut) -> None:
        self._fan_out_versions[event.originator_id] = event.originator_version
        for member in event.members:
            delivery_id = live_delivery_id(event.originator_id, member)
            self._known[delivery_id] = _Known(
                member, 0, True, event.kind, member, event.incident_id, fan_out=event.originator_id
            )
            item = LiveItem(
                position, delivery_id, event.kind, event.incident_id, event.text, event.recorded_at, event.data
            )
            self._hand_out(member, item, live=True)

    def _hand_out(self, member: str, item: LiveItem, *, live: bool) -> None:
        """Keep ``item`` in ``member``'s history and put it in their open streams' queues."""
        self._items[member].append(item)
        for queue in list(self._streams.get(member, ())):
            self._put(queue, item)
            if live:
                self._reached.add(item.delivery_id)

    def _keep_alive(self) -> None:
        """A None in every open stream's queue: the stream writes a keep-alive, so proxies and
        phones' networks see traffic on a quiet stream."""
        for queue in {q for queues in self._streams.values() for q in queues}:
            with contextlib.suppress(asyncio.QueueFull):  # a full queue is news enough
                queue.put_nowait(None)

    def _put(self, queue: asyncio.Queue[LiveItem | Lagged | None], item: LiveItem) -> None:
        try:
            queue.put_nowait(item)
        except asyncio.QueueFull:
            for streams in self._streams.values():
                streams.discard(queue)
            while not queue.empty():
                queue.get_nowait()
            queue.put_nowait(_LAGGED)
            log.warning("live_stream_lagged")

    @contextlib.contextmanager
    def _subscribe(self, members: Sequence[str]) -> Iterator[asyncio.Queue[LiveItem | Lagged | None]]:
        """One queue that gets the new items of every one of ``members`` while the block runs."""
        queue: asyncio.Queue[LiveItem | Lagged | None] = asyncio.Queue(self._queue_size)
        for member in members:
            self._streams[member].add(queue)
        try:
            yield queue
        finally:
            for member in members:
                self._streams[member].discard(queue)
                if not self._streams[member]:
                    del self._streams[member]

    @staticmethod
    def members_of(role: str, subject: str) -> list[str]:
        """The member keys whose items a token of ``role`` for ``subject`` sees."""
        return ["operator:*", f"operator:{subject}"] if role in {"operator", "admin"} else [f"{role}:{subject}"]

    async def follow(self, members: Sequence[str], *, after: int = 0) -> AsyncIterator[LiveItem | Lagged | None]:
        """The items of ``members`` after position ``after``, then each new one as it comes (a
        Lagged, last, if the client fell too far behind); None every ``keep_alive_s``, for a
        keep-alive."""
        with self._subscribe(members) as queue:  # before reading the history: nothing falls between
            history = sorted((i for m in members for i in self._items.get(m, ()) if i.id > after), key=lambda i: i.id)
            last = after
            for item in history:
                self._mark_reached(item)
                yield item
                last = item.id
            while True:
                news = await queue.get()
                if news is None:
                    yield None  # a keep-alive
                    continue
                if isinstance(news, Lagged):
                    yield news
                    return
                if news.id > last:  # an item both in the history and in the queue goes once
                    yield news
                    last = news.id

    def _mark_reached(self, item: LiveItem) -> None:
        known = self._known.get(item.delivery_id)
        if known is not None and known.live:
            self._reached.add(item.delivery_id)

    async def _record_reached(self) -> None:
        """Live deliveries that reached an open stream are recorded delivered, in one commit: one
        ``LiveReached`` per fan-out, a ``DeliveryDelivered`` for a delivery of its own."""
        reached, self._reached = self._reached, set()
        events: list[Event] = []
        by_fan_out: defaultdict[UUID, list[str]] = defaultdict(list)
        for delivery_id in reached:
            known = self._known.get(delivery_id)
            if known is None or not known.live:
                continue
            if known.fan_out is not None:
                by_fan_out[known.fan_out].append(known.member)
                continue
            events.append(
                DeliveryDelivered(
                    originator_id=delivery_id,
                    originator_version=known.version + 1,
                    incident_id=known.incident_id,
                    attempt=1,
                    channel=LIVE,
                    kind=known.kind,
                    recipient=known.recipient,
                )
            )
        for fan_out_id, members in by_fan_out.items():
            first = self._known[live_delivery_id(fan_out_id, members[0])]
            events.append(
                LiveReached(
                    originator_id=fan_out_id,
                    originator_version=self._fan_out_versions.get(fan_out_id, 1) + 1,
                    incident_id=first.incident_id,
                    members=sorted(members),
                )
            )
        if not events:
            return
        try:
            await asyncio.to_thread(self._app.record, *events)
        except IntegrityError:
            log.info("live_delivered_clash", count=len(events))  # another replica wrote meanwhile
            self._reached |= reached  # read what it wrote, then record what is still ours to
            return
        for event in events:
            if isinstance(event, LiveReached):
                self._take(0, event)
            else:
                known = self._known[event.originator_id]
                known.live, known.version = False, event.originator_version

    async def acknowledge(self, delivery_ids: Sequence[UUID], *, members: Sequence[str], by: str) -> int:
        """Record that ``by`` saw these deliveries (theirs only; once each); how many were new."""
        for _ in range(3):
            await self.pump()
            await self._record_reached()
            events: list[Event] = []
            for delivery_id in dict.fromkeys(delivery_ids):
                known = self._known.get(delivery_id)
                if known is None or known.member not in members or delivery_id in self._acknowledged:
                    continue
                events.append(
                    DeliveryAcknowledged(
                        originator_id=delivery_id,
                        originator_version=known.version + 1,
                        incident_id=known.incident_id,
                        causation_id=known.fan_out,
                        recipient=known.recipient,
                        kind=known.kind,
                        by=by,
                        occurred_at=utc_now(),
                    )
                )
            if not events:
                return 0
            try:
                await asyncio.to_thread(self._app.record, *events)
            except IntegrityError:
                continue  # something was recorded meanwhile: read on and decide again
            self._acknowledged.update(e.originator_id for e in events)
            return len(events)
        return 0
