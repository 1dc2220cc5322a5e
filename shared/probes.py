"""Pipeline probes: any service records a probe; every other service echoes it.

The time between a probe's recording and its echo's is the pipeline's commit → processed
latency (relay, JetStream, consumer, commit), which ``make bench`` and ``/health`` report.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from uuid import NAMESPACE_URL, uuid4, uuid5

from shared.events import Event, ProbeEchoed, ProbeSent

__all__ = ["echo_probe", "new_probe", "probe_subjects"]


def new_probe(label: str = "") -> ProbeSent:
    """A probe to record: its own one-event stream."""
    return ProbeSent(originator_id=uuid4(), originator_version=1, label=label)


def probe_subjects(service: str, services: Sequence[str]) -> list[str]:
    """The probe subjects of every other service."""
    return [f"jikimi.{other}.{ProbeSent.event_name()}" for other in services if other != service]


def echo_probe(service: str) -> Callable[[Event], Sequence[Event]]:
    """A consumer handler that answers each probe with one echo."""

    def handle(event: Event) -> Sequence[Event]:
        if not isinstance(event, ProbeSent):
            return ()
        return (
            ProbeEchoed(
                # One echo per probe and service, whichever instance handles it.
                originator_id=uuid5(NAMESPACE_URL, f"jikimi:echo:{service}:{event.id}"),
                originator_version=1,
                causation_id=event.id,
                correlation_id=event.correlation_id or event.id,
                probe_id=event.id,
                probe_service=event.service,
                probe_position=event.position,
                probe_recorded_at_ms=event.recorded_at.timestamp() * 1000,
                echoed_by=service,
            ),
        )

    return handle
