"""What a benchmark produces: named figures, each optionally compared with a raw limit and a goal."""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import msgspec

from shared.settings import DatabaseSettings, NatsSettings

__all__ = ["Benchmark", "Context", "Figure", "Goal", "Sizes", "percentile", "rate"]


class Goal(msgspec.Struct, frozen=True, kw_only=True):
    """A target for a figure: a bound on its value, or on its ratio to its limit when ``on_ratio``."""

    at_least: float | None = None
    at_most: float | None = None
    on_ratio: bool = False

    def is_met(self, value: float, ratio: float | None) -> bool | None:
        """Whether the goal is met; None when it is on the ratio and there is no limit to compare with."""
        measured = ratio if self.on_ratio else value
        if measured is None:
            return None
        if math.isnan(measured):
            return False  # nothing was measured: that meets no goal
        if self.at_least is not None and measured < self.at_least:
            return False
        return not (self.at_most is not None and measured > self.at_most)

    def describe(self, unit: str) -> str:
        """``≥ 50% of limit``, ``≥ 5,000 events/s``, ``≤ 20 ms``."""
        parts = []
        for sign, bound in (("≥", self.at_least), ("≤", self.at_most)):
            if bound is not None:
                parts.append(f"{sign} {bound:.0%} of limit" if self.on_ratio else f"{sign} {bound:,g} {unit}")
        return ", ".join(parts)


class Figure(msgspec.Struct, frozen=True, kw_only=True):
    """One measured number. Its limit is the sum of the figures named in ``limit_of``, measured
    in the same run (the raw capacity it is bounded by); the report works out the ratio."""

    name: str
    value: float
    unit: str
    limit_of: tuple[str, ...] = ()
    goal: Goal | None = None


@dataclass(frozen=True)
class Sizes:
    """How much work each benchmark does; ``quick`` is for a run of about 30 s."""

    timed_s: float = 5.0  # for loops bounded by time: single commits, sequential publishes
    pg_batch_rows: int = 100_000
    batch_size: int = 500
    es_batch_events: int = 50_000
    js_async_messages: int = 20_000
    pipeline_events: int = 20_000
    e2e_rate_per_s: float = 1_000.0
    e2e_s: float = 10.0

    @classmethod
    def quick(cls) -> Sizes:
        return cls(
            timed_s=1.5,
            pg_batch_rows=20_000,
            es_batch_events=10_000,
            js_async_messages=5_000,
            pipeline_events=5_000,
            e2e_s=3.0,
        )


@dataclass(frozen=True)
class Context:
    """What every benchmark gets: a fresh database of its own, a NATS server of its own, the sizes."""

    database: DatabaseSettings
    nats: NatsSettings
    sizes: Sizes


Benchmark = Callable[[Context], Awaitable[Sequence[Figure]]]
"""One area's measurement: runs against the context's servers and returns its figures."""


def rate(count: int, seconds: float) -> float:
    """Operations per second (0 when nothing was timed)."""
    return count / seconds if seconds > 0 else 0.0


def percentile(values: Sequence[float], q: float) -> float:
    """The nearest-rank ``q`` percentile (0 < q ≤ 100) of ``values``; NaN when there are none."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]
