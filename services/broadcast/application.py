"""The broadcast service's event-sourced application: its use cases over its own log."""

from __future__ import annotations

from shared.eventlog.application import ServiceApplication

__all__ = ["BroadcastApplication"]


class BroadcastApplication(ServiceApplication):
    """Broadcast's system of record (tables `broadcast_events`, `broadcast_tracking`)."""

    name = "broadcast"
