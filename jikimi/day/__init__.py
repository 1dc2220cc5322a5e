"""A day to replay: a realistic day of Seoul's emergencies, planned from a seed and played
through the real services (``jikimi day``).

``plan_day(seed, incidents)`` is the plan, a pure function: incidents across the 25 districts
with the day's rhythm, each with its citizens' messages on their channels, its operators'
actions, its room posts and how the experts it invites answer. ``play(plan, targets, speed=…)``
sends it to intake, community and broadcast over HTTP and sums up what happened.
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
from jikimi.day.player import Targets, play
from jikimi.day.summary import Failure, Given, Summary

__all__ = [
    "Action",
    "Answer",
    "Channel",
    "Close",
    "Escalate",
    "Failure",
    "Given",
    "Incident",
    "MakePublic",
    "Message",
    "Plan",
    "Post",
    "Summary",
    "Targets",
    "UpdateSituation",
    "Weather",
    "plan_day",
    "play",
]
