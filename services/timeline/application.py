"""The timeline service's own log: what analysts did with the record (exports), for audit."""

from __future__ import annotations

from shared.eventlog.application import ServiceApplication

__all__ = ["TimelineApplication"]


class TimelineApplication(ServiceApplication):
    """The timeline's system of record (tables `timeline_events`, `timeline_tracking`); its read
    model is `timeline_entries` (``store.py``), rebuilt from every service's log at will."""

    name = "timeline"
