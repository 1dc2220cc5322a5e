"""create_app(): the timeline service: every incident's events in order, for analysts."""

from __future__ import annotations

from pathlib import Path

from litestar import Litestar

from services.timeline.api.analysis import AnalysisController
from services.timeline.api.export import ExportController
from services.timeline.api.incidents import IncidentsController
from services.timeline.api.timeline import TimelineController
from services.timeline.application import TimelineApplication
from services.timeline.projector import Projector
from services.timeline.store import TimelineStore
from shared.probes import echo_probe, probe_subjects
from shared.runtime import ConsumerSpec, ServiceRuntime
from shared.services import SERVICES
from shared.web import create_service_app, from_state

__all__ = ["WEB", "create_app"]

WEB = Path(__file__).parent / "web"
"""Timeline's pages: the analysts' (``/ui/analyst/``), since timeline owns the incidents' histories."""


def create_app() -> Litestar:
    """The timeline service, configured from the environment."""

    def runtime() -> ServiceRuntime:
        runtime = ServiceRuntime.from_env(TimelineApplication)
        assert runtime.database is not None
        store = TimelineStore(runtime.database.url)
        projector = Projector(store, lambda: runtime.nc, stream=runtime.nats.stream)
        runtime.starting.append(store.open)
        runtime.stopping.append(store.close)
        runtime.loops.append(("timeline-projector", projector.run))
        runtime.consumers.append(ConsumerSpec("probes", probe_subjects("timeline", SERVICES), echo_probe("timeline")))
        runtime.state["timeline"] = store
        runtime.state["projector"] = projector
        return runtime

    return create_service_app(
        "timeline",
        runtime,
        [TimelineController, AnalysisController, ExportController, IncidentsController],
        description="Every incident's events in order, its state at any moment, and exports, for analysts.",
        dependencies={"timeline": from_state("timeline")},
        pages=WEB,
    )
