"""The contract between Jikimi's services: every event that crosses a service boundary.

Pure data and codec; no I/O. Importing this package registers every published event type.
"""

from shared.events import broadcast, community, intake, system, timeline
from shared.events.base import Event, event_types, family_of, published_event_types, subjects_of, utc_now
from shared.events.codec import EventCodec, UnknownEventError, encode
from shared.events.system import ProbeEchoed, ProbeSent

__all__ = [
    "CODEC",
    "Event",
    "EventCodec",
    "ProbeEchoed",
    "ProbeSent",
    "UnknownEventError",
    "broadcast",
    "community",
    "decode",
    "encode",
    "event_types",
    "family_of",
    "intake",
    "published_event_types",
    "subjects_of",
    "system",
    "timeline",
    "utc_now",
]

CODEC = EventCodec(published_event_types().values())
decode = CODEC.decode
