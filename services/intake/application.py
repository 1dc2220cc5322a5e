"""The intake service's event-sourced application: its use cases over its own log."""

from __future__ import annotations

from shared.eventlog.application import ServiceApplication

__all__ = ["IntakeApplication"]


class IntakeApplication(ServiceApplication):
    """Intake's system of record (tables `intake_events`, `intake_tracking`)."""

    name = "intake"
