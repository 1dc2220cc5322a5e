"""create_app(): the intake service's HTTP app, event log, relay and consumers, wired."""

from __future__ import annotations

from pathlib import Path

from litestar import Litestar
from litestar.di import Provide

from services.intake.api.alerts import AlertController
from services.intake.api.board import live_board
from services.intake.api.channels import ChannelController, ReportController
from services.intake.api.incidents import IncidentController
from services.intake.application import IntakeApplication, IntakeService
from services.intake.domain import IncidentClosedError, InvalidChangeError, NotFoundError
from services.intake.poller import DisasterMessagePoller, PollerSettings
from services.intake.settings import ChannelSettings, reception_policy_from_env
from shared.privacy import Privacy
from shared.probes import echo_probe, probe_subjects
from shared.runtime import ConsumerSpec, ServiceRuntime
from shared.services import SERVICES
from shared.settings import ServiceSettings
from shared.web import create_service_app, from_state

__all__ = ["create_app"]

WEB = Path(__file__).parent / "web"
"""Intake's pages: the citizens' (``/ui/citizen/``), since intake owns their reports, and the
operators' live board (``/ui/operator/``), since it owns incidents."""


def create_app() -> Litestar:
    """The intake service, configured from the environment."""
    settings = ServiceSettings.from_env("intake")
    channels = ChannelSettings.from_env()

    def runtime() -> ServiceRuntime:
        runtime = ServiceRuntime.from_env(IntakeApplication)
        intake = IntakeService(runtime.application, Privacy(settings.secret_key), reception_policy_from_env())
        runtime.consumers.append(ConsumerSpec("probes", probe_subjects("intake", SERVICES), echo_probe("intake")))
        poller = DisasterMessagePoller(PollerSettings.from_env(), intake.record_disaster_messages)
        runtime.loops.append(("writer", intake.run))
        runtime.loops.append(("disaster-message-poller", poller.run))
        runtime.starting.append(intake.start)
        runtime.state["intake"] = intake
        return runtime

    return create_service_app(
        "intake",
        runtime,
        [ChannelController, ReportController, IncidentController, live_board, AlertController],
        domain_errors={NotFoundError: 404, IncidentClosedError: 409, InvalidChangeError: 422},
        description="Citizens' reports from chat channels, incidents from reception to closure, national alerts.",
        dependencies={
            "intake": from_state("intake"),
            "channels": Provide(lambda: channels, sync_to_thread=False),
        },
        pages=WEB,
    )
