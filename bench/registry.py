"""Every benchmark, in the order the report shows them (each ceiling before what it bounds).

A new area adds a module with its own ``BENCHMARKS`` tuple and one line here.
"""

from __future__ import annotations

from bench import broadcast, community, eventlog, intake, jetstream, live, pipeline, postgres, timeline, web, webhook
from bench.figures import Benchmark

__all__ = ["BENCHMARKS"]

BENCHMARKS: tuple[Benchmark, ...] = (
    *postgres.BENCHMARKS,
    *eventlog.BENCHMARKS,
    *jetstream.BENCHMARKS,
    *pipeline.BENCHMARKS,
    *intake.BENCHMARKS,
    *community.BENCHMARKS,
    *live.BENCHMARKS,
    *broadcast.BENCHMARKS,
    *webhook.BENCHMARKS,
    *timeline.BENCHMARKS,
    *web.BENCHMARKS,
)
