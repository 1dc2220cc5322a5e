"""create_app(): the community service's HTTP app, event log, relay and consumers, wired."""

from __future__ import annotations

import asyncio
from pathlib import Path

from litestar import Litestar

from services.community.api import (
    CommunityController,
    ExpertController,
    InvitationLinkController,
    RoomController,
    RoomLinkController,
    SeatLinkController,
    room_socket,
)
from services.community.application import CommunityApplication, CommunityService
from services.community.invitations import AnswerError, CommunityNotFoundError
from services.community.policy import load_policy
from services.community.pool import ExpertNotFoundError, PoolConflictError
from services.community.reactions import Reactions
from services.community.registry import (
    FIELDS,
    RegistryError,
    load_departments,
    load_experts,
    sealed_departments,
)
from services.community.room_stream import RoomWatch
from shared.events import subjects_of
from shared.events.broadcast import DeliveryDelivered, DeliveryFailed
from shared.events.intake import (
    IncidentClosed,
    IncidentEscalated,
    IncidentOpened,
    IncidentReclassified,
    ReportLinked,
    ReportUnlinked,
)
from shared.privacy import Privacy
from shared.probes import echo_probe, probe_subjects
from shared.runtime import ConsumerSpec, ServiceRuntime
from shared.services import SERVICES
from shared.settings import ServiceSettings
from shared.web import create_service_app, from_state

__all__ = ["WEB", "create_app"]

WEB = Path(__file__).parent / "web"
"""Community's pages: the experts' (``/ui/expert/``), since community owns invitations and rooms."""

INCIDENT_EVENTS = (
    IncidentOpened,
    ReportLinked,
    ReportUnlinked,
    IncidentReclassified,
    IncidentEscalated,
    IncidentClosed,
)


def create_app() -> Litestar:
    """The community service, configured from the environment."""
    settings = ServiceSettings.from_env("community")
    experts, departments = load_experts(), load_departments()
    privacy = Privacy(settings.secret_key)
    policy = load_policy(frozenset(FIELDS), frozenset(d.kind for d in departments))

    def runtime() -> ServiceRuntime:
        runtime = ServiceRuntime.from_env(CommunityApplication)
        service = CommunityService(runtime.application, privacy)
        view = service.view  # one view, one lock: the writer and the consumers decide in turn
        reactions = Reactions(view, sealed_departments(departments, privacy.seal_address), policy)
        incidents = subjects_of(*INCIDENT_EVENTS)
        runtime.consumers.append(ConsumerSpec("incidents", incidents, reactions.handle, state=view))
        receipts = subjects_of(DeliveryDelivered, DeliveryFailed)
        runtime.consumers.append(ConsumerSpec("invitation-receipts", receipts, reactions.handle, state=view))
        runtime.consumers.append(ConsumerSpec("probes", probe_subjects("community", SERVICES), echo_probe("community")))

        async def catch_up() -> None:
            await asyncio.to_thread(view.catch_up)

        async def seed() -> None:
            await service.seed(experts, source="experts.json")

        runtime.starting.append(seed)  # the pool is in the log before anything decides
        runtime.starting.append(catch_up)
        runtime.starting.append(service.start)
        runtime.loops.append(("invitations", service.run))
        runtime.state["communities"] = view
        runtime.state["community"] = service
        assert runtime.database is not None
        rooms = RoomWatch(runtime.application, service.view, database_url=runtime.database.url)
        runtime.starting.append(rooms.start)
        runtime.loops.append(("rooms", rooms.run))
        runtime.state["rooms"] = rooms
        return runtime

    return create_service_app(
        "community",
        runtime,
        [
            CommunityController,
            InvitationLinkController,
            RoomController,
            RoomLinkController,
            SeatLinkController,
            ExpertController,
            room_socket,
        ],
        domain_errors={
            CommunityNotFoundError: 404,
            AnswerError: 409,
            ExpertNotFoundError: 404,
            PoolConflictError: 409,
            RegistryError: 400,
        },
        description="Each incident's emergency community: experts, reporters, departments.",
        dependencies={"community": from_state("community")},
        pages=WEB,
    )
