"""Events about the event pipeline itself: probes that measure commit → processed."""

from __future__ import annotations

from uuid import UUID

from shared.events.base import Event

__all__ = ["ProbeEchoed", "ProbeSent"]


class ProbeSent(Event, frozen=True, tag="system.probe_sent"):
    """A service recorded a probe, to see that (and how fast) the others process its events."""

    label: str = ""


class ProbeEchoed(Event, frozen=True, tag="system.probe_echoed"):
    """A service processed a probe from another service (``causation_id`` is the probe)."""

    probe_service: str = ""
    probe_position: int = 0
    probe_recorded_at_ms: float = 0.0
    echoed_by: str = ""
    probe_id: UUID | None = None
