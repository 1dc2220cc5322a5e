"""A day to replay: a realistic day of Seoul's emergencies, planned from a seed and played
through the real services (``jikimi day``).

``plan_day(seed, incidents)`` is the plan, a pure function: incidents across the 25 districts
with the day's rhythm, each with its citizens' messages on their channels, its operators'
actions, its room posts and how the experts it invites answer. ``play(plan, targets, speed=…)``
(coming with the player) sends it to intake, community and broadcast over HTTP.
"""

from jikimi.day.model import (
    Action,
    Answer,
    Channel,
    Close,
    Escalate,
    Incident,
    MakePublic,
    Message,
    Plan,
    Post,
    UpdateSituation,
    Weather,
)
from jikimi.day.plan import plan_day

__all__ = [
    "Action",
    "Answer",
    "Channel",
    "Close",
    "Escalate",
    "Incident",
    "MakePublic",
    "Message",
    "Plan",
    "Post",
    "UpdateSituation",
    "Weather",
    "plan_day",
]
