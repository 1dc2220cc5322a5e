"""CAP 1.2 rules that the OASIS schema does not enforce, as parsers of one element's text.

Each function takes the text of one element and returns its value, or raises ``RuleError`` with what is wrong,
in words an operator can act on; the caller knows the element's path and turns the error into a ``CapProblem``.
"""

import re
from datetime import datetime

from services.intake.alerts.cap_model import CapCircle, CapReference

__all__ = [
    "CATEGORIES",
    "CERTAINTIES",
    "MSG_TYPES",
    "RESPONSE_TYPES",
    "SCOPES",
    "SEVERITIES",
    "STATUSES",
    "URGENCIES",
    "RuleError",
    "parse_circle",
    "parse_decimal",
    "parse_enumerated",
    "parse_identifier",
    "parse_polygon",
    "parse_references",
    "parse_size",
    "parse_time",
    "split_quoted_list",
]

STATUSES = ("Actual", "Exercise", "System", "Test", "Draft")
MSG_TYPES = ("Alert", "Update", "Cancel", "Ack", "Error")
SCOPES = ("Public", "Restricted", "Private")
CATEGORIES = (
    "Geo",
    "Met",
    "Safety",
    "Security",
    "Rescue",
    "Fire",
    "Health",
    "Env",
    "Transport",
    "Infra",
    "CBRNE",
    "Other",
)
RESPONSE_TYPES = ("Shelter", "Evacuate", "Prepare", "Execute", "Avoid", "Monitor", "Assess", "AllClear", "None")
URGENCIES = ("Immediate", "Expected", "Future", "Past", "Unknown")
SEVERITIES = ("Extreme", "Severe", "Moderate", "Minor", "Unknown")
CERTAINTIES = ("Observed", "Likely", "Possible", "Unlikely", "Unknown")

_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}")
# A plain decimal; float() alone would also take "nan", "inf", "1e3" and "1_000".
_DECIMAL = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")
_FORBIDDEN_IN_IDENTIFIER = {" ": "a space", ",": "a comma", "<": "'<'", "&": "'&'"}
_QUOTED_OR_BARE = re.compile(r'"([^"]*)"|(\S+)')
_MIN_POLYGON_POINTS = 4


class RuleError(ValueError):
    """Raised when one element's text breaks a CAP rule; the message says how, without naming the element."""


def parse_time(text: str) -> datetime:
    """A CAP time: ``YYYY-MM-DDThh:mm:ss±hh:mm``, never ``Z``; returns a timezone-aware datetime."""
    if text.endswith(("Z", "z")):
        raise RuleError(f"{text!r} uses 'Z'; CAP requires a numeric UTC offset such as +00:00")
    if not _TIME.fullmatch(text):
        raise RuleError(f"{text!r} is not a time of the form YYYY-MM-DDThh:mm:ss±hh:mm")
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise RuleError(f"{text!r} is not a real date and time") from None


def parse_identifier(text: str) -> str:
    """An identifier or sender: no whitespace, commas, ``<`` or ``&``, which would break ``references``."""
    if not text:
        raise RuleError("is empty")
    for character, name in _FORBIDDEN_IN_IDENTIFIER.items():
        if character in text:
            raise RuleError(f"{text!r} contains {name}, which CAP forbids here")
    if any(character.isspace() for character in text):
        raise RuleError(f"{text!r} contains whitespace, which CAP forbids here")
    return text


def parse_enumerated(text: str, allowed: tuple[str, ...]) -> str:
    """One of the values CAP lists for this element, spelled exactly."""
    if text in allowed:
        return text
    what = "is empty" if not text else f"{text!r} is not allowed"
    raise RuleError(f"{what}; it must be one of {', '.join(allowed)}")


def parse_references(text: str) -> list[CapReference]:
    """A space-separated list of ``sender,identifier,sent`` triples naming earlier alerts; at least one."""
    entries = text.split()
    if not entries:
        raise RuleError("is empty; it must list at least one earlier alert as 'sender,identifier,sent'")
    references = []
    for number, entry in enumerate(entries, start=1):
        parts = entry.split(",")
        if len(parts) != 3 or not all(parts):
            raise RuleError(f"entry {number} {entry!r} is not of the form 'sender,identifier,sent'")
        sender, identifier, sent = parts
        try:
            references.append(CapReference(sender=sender, identifier=identifier, sent=parse_time(sent)))
        except RuleError as error:
            raise RuleError(f"entry {number} has a bad sent time: {error}") from None
    return references


def parse_decimal(text: str) -> float:
    """A plain decimal number."""
    if not _DECIMAL.fullmatch(text):
        raise RuleError(f"{text!r} is not a decimal number")
    return float(text)


def parse_size(text: str) -> int:
    """A size in bytes: a non-negative whole number."""
    if not text.isascii() or not text.isdigit():
        raise RuleError(f"{text!r} is not a whole number of bytes")
    return int(text)


def _parse_point(pair: str) -> tuple[float, float]:
    parts = pair.split(",")
    if len(parts) != 2 or not _DECIMAL.fullmatch(parts[0]) or not _DECIMAL.fullmatch(parts[1]):
        raise RuleError(f"{pair!r} is not a 'lat,lon' pair of decimal degrees")
    lat, lon = float(parts[0]), float(parts[1])
    if not -90 <= lat <= 90:
        raise RuleError(f"{pair!r} has latitude {lat}, outside -90..90")
    if not -180 <= lon <= 180:
        raise RuleError(f"{pair!r} has longitude {lon}, outside -180..180")
    return lat, lon


def parse_polygon(text: str) -> list[tuple[float, float]]:
    """A closed ring of at least four space-separated ``lat,lon`` points, the first repeated as the last."""
    pairs = text.split()
    if not pairs:
        raise RuleError("is empty; it must hold at least 4 'lat,lon' points, the first repeated as the last")
    points = []
    for number, pair in enumerate(pairs, start=1):
        try:
            points.append(_parse_point(pair))
        except RuleError as error:
            raise RuleError(f"point {number}: {error}") from None
    if len(points) < _MIN_POLYGON_POINTS:
        raise RuleError(f"has {len(points)} points; a polygon needs at least 4, the first repeated as the last")
    if points[0] != points[-1]:
        raise RuleError(f"is not closed: the first point {pairs[0]!r} differs from the last {pairs[-1]!r}")
    return points


def parse_circle(text: str) -> CapCircle:
    """A ``lat,lon radius`` circle, the radius in kilometres."""
    parts = text.split()
    if len(parts) != 2:
        raise RuleError(f"{text!r} is not of the form 'lat,lon radius'")
    lat, lon = _parse_point(parts[0])
    if not _DECIMAL.fullmatch(parts[1]) or float(parts[1]) < 0:
        raise RuleError(f"radius {parts[1]!r} is not a non-negative number of kilometres")
    return CapCircle(lat=lat, lon=lon, radius_km=float(parts[1]))


def split_quoted_list(text: str) -> list[str]:
    """A space-separated list whose multi-word entries are in double quotes, as ``addresses`` and ``incidents``."""
    return [
        match.group(1) if match.group(1) is not None else match.group(2) for match in _QUOTED_OR_BARE.finditer(text)
    ]
