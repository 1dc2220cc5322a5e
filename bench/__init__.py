"""Jikimi's benchmarks: each figure of the pipeline beside the raw ceiling it is bounded by.

Run with ``python -m bench`` (``make bench``); ``--quick`` for a run of about 30 s.
"""

from bench.figures import Benchmark, Context, Figure, Goal, Sizes

__all__ = ["Benchmark", "Context", "Figure", "Goal", "Sizes"]
