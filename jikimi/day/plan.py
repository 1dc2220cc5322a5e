"""A day's plan: what happens, where and when, as a pure function of a seed and a size.

The plan is data (``model.py``): incidents, each with its timed actions (citizens' messages,
operators' actions, room posts, the close) and the answers its invited experts will give in the
order their invitations come. ``plan_day(seed, incidents)`` always gives the same plan; nothing
in it reads a clock or the services.
"""

from __future__ import annotations

import random

from jikimi.day.layout import lay_out
from jikimi.day.model import Plan, Weather
from jikimi.day.scenes import build_incident

__all__ = ["plan_day"]


def plan_day(seed: int, incidents: int = 300, *, month: int | None = None) -> Plan:
    """The day of ``seed``: ``incidents`` incidents across Seoul's districts, in ``month`` (drawn
    from the seed when None). The same arguments always give the same plan."""
    if incidents < 1:
        raise ValueError("incidents: a day needs at least one")
    if month is not None and not 1 <= month <= 12:
        raise ValueError(f"month: {month} is not 1 to 12")
    rng = random.Random(f"jikimi-day:{seed}")  # noqa: S311 (a seeded plan, not a secret)
    chosen = month if month is not None else rng.randint(1, 12)
    layout = lay_out(rng, incidents, chosen)
    # Each incident draws from its own generator: its story does not shift when another's changes.
    built = tuple(
        build_incident(random.Random(f"jikimi-day:{seed}:{slot.number}"), slot)  # noqa: S311 (as above)
        for slot in layout.slots
    )
    weather = Weather(*layout.weather) if layout.weather else None
    return Plan(seed=seed, month=chosen, weather=weather, incidents=built)
