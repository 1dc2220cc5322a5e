"""The community service's event-sourced application and its use cases."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from services.community import pool
from services.community.invitations import Changed, Command, answer, expire_due
from services.community.registry import Expert
from services.community.view import Community, CommunityView, community_id
from shared.eventlog.application import ServiceApplication
from shared.eventlog.writer import Writer
from shared.events import utc_now
from shared.privacy import Privacy

__all__ = ["CommunityApplication", "CommunityService"]


class CommunityApplication(ServiceApplication):
    """Community's system of record (tables ``community_events``, ``community_tracking``)."""

    name = "community"


class CommunityService:
    """Answers to invitations and their deadlines, through one writer over its own view."""

    def __init__(self, app: ServiceApplication, privacy: Privacy, *, tick_s: float = 1.0) -> None:
        self.app = app
        self.privacy = privacy
        self.view = CommunityView(app.recorder)
        self.writer: Writer[CommunityView] = Writer(app, self.view)
        self._tick_s = tick_s

    async def start(self) -> None:
        await asyncio.to_thread(self.view.catch_up)

    async def catch_up(self) -> None:
        await asyncio.to_thread(self.view.catch_up)

    async def seed(self, experts: Sequence[Expert], *, source: str) -> int:
        """Register the seed experts the log does not know yet, before anything decides (the writer
        is not running yet); how many events that recorded. Another replica seeding at the same
        moment makes this one's write clash: what it wrote stands."""

        def write() -> int:
            self.view.catch_up()
            events = pool.seed(experts, self.privacy.seal_address, source=source)(self.view, utc_now()).events
            if not events:
                return 0
            try:
                self.app.record(*events)
            except IntegrityError:
                return 0
            finally:
                self.view.catch_up()
            return len(events)

        return await asyncio.to_thread(write)

    async def change_pool(self, command: Command) -> Changed:
        """Run a pool command (register, change, retire, availability) through the writer."""
        await self.catch_up()
        result: Changed = await self.writer.submit(command)
        return result

    async def run(self, stop: asyncio.Event) -> None:
        """The writer, and a clock that times out lapsed invitations (also after a restart)."""
        writing = asyncio.create_task(self.writer.run(stop))
        try:
            while not stop.is_set():
                await self.expire_due()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=self._tick_s)
        finally:
            await writing

    async def expire_due(self) -> int:
        """Time out what is due now; how many events that recorded."""
        await asyncio.to_thread(self.view.catch_up)
        now = utc_now()
        if not any(
            i.status == "invited" and i.expires_at <= now
            for c in list(self.view.communities.values())
            for i in c.invitations.values()
        ):
            return 0
        result: Changed = await self.writer.submit(expire_due())
        return len(result.events)

    async def get(self, incident_id: UUID) -> Community | None:
        """The incident's community as the log has it now (the view is caught up first)."""
        await asyncio.to_thread(self.view.catch_up)
        return self.view.communities.get(community_id(incident_id))

    async def answer(self, incident_id: UUID, expert_id: str, *, accept: bool, by: str, reason: str = "") -> Community:
        """Record an expert's answer; the community as it stands after it."""
        await self.writer.submit(answer(incident_id, expert_id, accept=accept, by=by, reason=reason))
        return self.view.communities[community_id(incident_id)]
