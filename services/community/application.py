"""The community service's event-sourced application: its use cases over its own log."""

from __future__ import annotations

from shared.eventlog.application import ServiceApplication

__all__ = ["CommunityApplication"]


class CommunityApplication(ServiceApplication):
    """Community's system of record (tables `community_events`, `community_tracking`)."""

    name = "community"
