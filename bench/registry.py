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
    # Broadcast's before intake's and community's: their thousands of incidents, left in the
    # stream, would have a broadcast started later brief each one before anything measured.
    *live.BENCHMARKS,
    *broadcast.BENCHMARKS,
    *webhook.BENCHMARKS,
    *intake.BENCHMARKS,
    *community.BENCHMARKS,
    *timeline.BENCHMARKS,
    *web.BENCHMARKS,
)
