"""create_app(): the community service's HTTP app, event log, relay and consumers, wired."""

from __future__ import annotations

from litestar import Litestar

from services.community.application import CommunityApplication
from shared.probes import echo_probe, probe_subjects
from shared.runtime import ConsumerSpec, ServiceRuntime
from shared.services import SERVICES
from shared.web import create_service_app

__all__ = ["create_app"]


def create_app() -> Litestar:
    """The community service, configured from the environment."""

    def runtime() -> ServiceRuntime:
        runtime = ServiceRuntime.from_env(CommunityApplication)
        runtime.consumers.append(ConsumerSpec("probes", probe_subjects("community", SERVICES), echo_probe("community")))
        return runtime

    return create_service_app("community", runtime)
