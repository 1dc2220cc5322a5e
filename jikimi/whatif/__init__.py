"""What-if: an incident's recorded inputs fed to another seat policy in a sandbox, side by side.

``whatif()`` reads the incident's recorded inputs from the deployment's PostgreSQL event tables
(read-only sessions), replays them through community's own decision code on an in-memory log with
the other policy (``sandbox``), and compares the two runs seat by seat (``report``): who was
invited when, who accepted, when each seat filled. Nothing is sent and nothing is written.

An expert invited in both runs answers as they did in reality, at the same delay after their
invitation. An expert only the sandbox invites has no recorded answer: by default none is assumed
(their invitation lapses and the next candidate is asked, as the service would do); ``assume``
gives them one. Other incidents and the expert pool stay as recorded.

Errors::

    ValueError
     └── PolicyError            the policy tried is malformed or names an unknown field or kind
    LookupError
     └── IncidentNotFoundError  intake's log never opened the incident
"""

from jikimi.whatif.compare import DEFAULT_ANSWER_AFTER_S, SeatComparison, WhatIf, compare, policy_from_text, whatif
from jikimi.whatif.inputs import IncidentNotFoundError
from jikimi.whatif.report import Invitee, SeatRun
from jikimi.whatif.sandbox import Assume
from services.community.policy import PolicyError

__all__ = [
    "DEFAULT_ANSWER_AFTER_S",
    "Assume",
    "IncidentNotFoundError",
    "Invitee",
    "PolicyError",
    "SeatComparison",
    "SeatRun",
    "WhatIf",
    "compare",
    "policy_from_text",
    "whatif",
]
