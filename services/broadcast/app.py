"""create_app(): the broadcast service's HTTP app, event log, relay, consumers and sender, wired."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
from litestar import Litestar, Router
from litestar.middleware import DefineMiddleware

from services.broadcast.alerts import AlertSender
from services.broadcast.api.live import DeliveriesController, LiveController, live_socket, live_stream
from services.broadcast.api.subscriptions import SubscriptionController, SubscriptionDesk
from services.broadcast.application import BroadcastApplication
from services.broadcast.briefings import FACT_SUBJECTS, BriefingClock, BriefingView, FactNotes
from services.broadcast.briefings_api import BriefingController
from services.broadcast.channels import ChannelConfig, adapters_from
from services.broadcast.deliveries import DeliveryView, Links, Sender, request_reporter_notice
from services.broadcast.escalation import Escalator, acknowledge_answers
from services.broadcast.live import LiveHub, fan_out
from services.broadcast.public import PublicController, PublicFollower, PublicView
from services.broadcast.requests import CommunityRequests
from services.broadcast.subscriptions import DistrictGuides, Subscriptions
from shared.events import subjects_of
from shared.events.community import (
    InvitationAccepted,
    InvitationDeclined,
    InvitationTimedOut,
    MemberInvited,
    MemberReleased,
    MessagePosted,
    ReporterJoined,
    SeatUnfillable,
)
from shared.events.intake import CapAlertReceived, IncidentOpened, ReporterNoticeQueued
from shared.privacy import Privacy
from shared.probes import echo_probe, probe_subjects
from shared.runtime import ConsumerSpec, ServiceRuntime
from shared.services import SERVICES
from shared.settings import ServiceSettings
from shared.web import create_service_app, from_state
from shared.webui import PublicReadCors, public_cors_origins

__all__ = ["WEB", "create_app"]

WEB = Path(__file__).parent / "web"
"""Broadcast's pages: the departments' (``/ui/department/``), since broadcast owns briefings and
members' live streams."""


def create_app() -> Litestar:
    """The broadcast service, configured from the environment."""
    settings = ServiceSettings.from_env("broadcast")
    channels = ChannelConfig.from_env()
    privacy = Privacy(settings.secret_key)
    requests = CommunityRequests.from_env(privacy)

    def runtime() -> ServiceRuntime:
        runtime = ServiceRuntime.from_env(BroadcastApplication)
        view = DeliveryView(runtime.application.recorder)

        async def send(stop: asyncio.Event) -> None:
            """Single deliveries and alert batches, through one client and one set of channels."""
            database_url = runtime.database.url if runtime.database else None
            async with httpx.AsyncClient(timeout=10.0) as client:
                adapters = adapters_from(channels, client)
                links = Links.from_env(settings.secret_key)
                sender = Sender(runtime.application, view, adapters, privacy, links=links, database_url=database_url)
                alerts = AlertSender(runtime.application, view, adapters, privacy, database_url=database_url)
                async with asyncio.TaskGroup() as senders:  # one failing stops both: the runtime restarts them
                    senders.create_task(sender.run(stop))
                    senders.create_task(alerts.run(stop))

        notices = subjects_of(ReporterNoticeQueued)
        runtime.consumers.append(ConsumerSpec("reporter-notices", notices, request_reporter_notice))
        community = subjects_of(MemberInvited, MemberReleased, SeatUnfillable, ReporterJoined)
        runtime.consumers.append(ConsumerSpec("community-requests", community, requests.handle))
        runtime.consumers.append(ConsumerSpec("probes", probe_subjects("broadcast", SERVICES), echo_probe("broadcast")))
        runtime.loops.append(("senders", send))
        # Unacknowledged in time → the next channel; an expert's answer acknowledges their invitation.
        runtime.loops.append(("escalations", Escalator(runtime.application, view).run))
        answers = subjects_of(InvitationAccepted, InvitationDeclined, InvitationTimedOut, MemberReleased)
        runtime.consumers.append(ConsumerSpec("invitation-answers", answers, acknowledge_answers(view), state=view))
        runtime.state["deliveries"] = view
        # Live streams: room messages fan out to one live delivery per member; one hub per process.
        runtime.consumers.append(ConsumerSpec("room-messages", subjects_of(MessagePosted), fan_out))
        assert runtime.database is not None
        live = LiveHub(runtime.application, database_url=runtime.database.url)
        runtime.starting.append(live.start)
        runtime.loops.append(("live", live.run))
        runtime.state["live"] = live
        # The public: a view of intake's public events, read from the stream's start (see public/follow.py).
        public = PublicView()
        follower = PublicFollower(public, lambda: runtime.nc, stream=runtime.nats.stream)
        runtime.loops.append(("public", follower.run))
        runtime.state["public"] = public
        # Briefings: what intake and community say of incidents, noted; reports issued when due.
        briefings = BriefingView(runtime.application.recorder)
        runtime.consumers.append(ConsumerSpec("briefing-facts", FACT_SUBJECTS, FactNotes.from_env().note))
        runtime.loops.append(("briefings", BriefingClock(runtime.application, briefings).run))
        runtime.state["briefings"] = briefings
        # Subscriptions: citizens of a district get the guide when an incident opens there (or a
        # national alert names it); the consumer reads the view it folds, as its state.
        subscriptions = Subscriptions(runtime.application.recorder)
        guides = DistrictGuides(subscriptions)
        opened = subjects_of(IncidentOpened, CapAlertReceived)
        runtime.consumers.append(ConsumerSpec("district-guides", opened, guides.handle, state=subscriptions))
        runtime.state["subscription_desk"] = SubscriptionDesk(
            runtime.application, subscriptions, privacy, settings.secret_key
        )
        return runtime

    return create_service_app(
        "broadcast",
        runtime,
        [
            LiveController,
            DeliveriesController,
            live_socket,
            live_stream,
            # Pages of other origins (the citizens', served by intake) read the public routes.
            Router(
                "/",
                route_handlers=[PublicController],
                middleware=[DefineMiddleware(PublicReadCors, origins=public_cors_origins())],
            ),
            BriefingController,
            SubscriptionController,
        ],
        description="Deliveries to members and citizens on their channels, with receipts.",
        dependencies={
            "live": from_state("live"),
            "deliveries": from_state("deliveries"),
            "subscription_desk": from_state("subscription_desk"),
        },
        pages=WEB,
    )
