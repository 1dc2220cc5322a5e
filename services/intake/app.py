"""create_app(): the intake service's HTTP app, event log, relay and consumers, wired."""

from __future__ import annotations

from litestar import Litestar

from services.intake.application import IntakeApplication
from shared.probes import echo_probe, probe_subjects
from shared.runtime import ConsumerSpec, ServiceRuntime
from shared.services import SERVICES
from shared.web import create_service_app

__all__ = ["create_app"]


def create_app() -> Litestar:
    """The intake service, configured from the environment."""

    def runtime() -> ServiceRuntime:
        runtime = ServiceRuntime.from_env(IntakeApplication)
        runtime.consumers.append(ConsumerSpec("probes", probe_subjects("intake", SERVICES), echo_probe("intake")))
        return runtime

    return create_service_app("intake", runtime)
