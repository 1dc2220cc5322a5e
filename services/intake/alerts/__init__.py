"""Reading public alerts: CAP 1.2 alerts and pages of the Korean disaster-text-message API.

Pure parsing and validation of untrusted bytes; no I/O besides reading the bundled CAP schema.

Exceptions::

    ValueError
    └── CapError      raised when bytes are not a safe, valid CAP alert (or Atom feed of them); lists CapProblems
    Exception
    └── KrApiError    raised when a disaster-message API page reports an error or is not JSON or not a page
"""

from services.intake.alerts.cap import parse_cap, parse_cap_feed
from services.intake.alerts.cap_model import (
    CapAlert,
    CapArea,
    CapCircle,
    CapError,
    CapInfo,
    CapProblem,
    CapReference,
    CapResource,
    CapValue,
)
from services.intake.alerts.cap_xml import MAX_DOCUMENT_BYTES
from services.intake.alerts.kr_messages import (
    SEOUL_DISTRICTS,
    KrApiError,
    KrDisasterMessage,
    KrMessagePage,
    KrSkippedMessage,
    parse_page,
    seoul_districts_in,
)

__all__ = [
    "MAX_DOCUMENT_BYTES",
    "SEOUL_DISTRICTS",
    "CapAlert",
    "CapArea",
    "CapCircle",
    "CapError",
    "CapInfo",
    "CapProblem",
    "CapReference",
    "CapResource",
    "CapValue",
    "KrApiError",
    "KrDisasterMessage",
    "KrMessagePage",
    "KrSkippedMessage",
    "parse_cap",
    "parse_cap_feed",
    "parse_page",
    "seoul_districts_in",
]
