"""The error that lists why a document is not a CAP 1.2 alert; the alert's shape itself is part of
the contract (``shared.events.cap``) and re-exported here.

Every part is a frozen msgspec Struct of JSON-friendly values, so an alert can be carried whole inside an event.
Names follow the CAP elements in snake_case (``msgType`` becomes ``msg_type``); repeatable elements become lists
with plural names. Optional elements are ``None`` or an empty list when absent. New fields must get defaults.
"""

import msgspec

from shared.events.cap import CapAlert, CapArea, CapCircle, CapInfo, CapReference, CapResource, CapValue

__all__ = [
    "CapAlert",
    "CapArea",
    "CapCircle",
    "CapError",
    "CapInfo",
    "CapProblem",
    "CapReference",
    "CapResource",
    "CapValue",
]


class CapProblem(msgspec.Struct, frozen=True):
    """One thing wrong with a document: where (an XPath-like path such as ``alert/info[0]/urgency``) and what."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class CapError(ValueError):
    """Raised when bytes are not a safe, valid CAP 1.2 alert; ``problems`` says every reason found."""

    def __init__(self, problems: list[CapProblem]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(str(problem) for problem in self.problems))
