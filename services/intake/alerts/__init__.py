"""Reading public alerts: CAP 1.2 alerts.

Pure parsing and validation of untrusted bytes; no I/O besides reading the bundled CAP schema.

Exceptions::

    ValueError
    └── CapError      raised when bytes are not a safe, valid CAP alert (or Atom feed of them); lists CapProblems
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

__all__ = [
    "MAX_DOCUMENT_BYTES",
    "CapAlert",
    "CapArea",
    "CapCircle",
    "CapError",
    "CapInfo",
    "CapProblem",
    "CapReference",
    "CapResource",
    "CapValue",
    "parse_cap",
    "parse_cap_feed",
]
