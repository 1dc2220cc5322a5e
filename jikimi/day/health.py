"""The services' own account of a played day: their ``/health`` before and after, so that what
their consumers gave up on (parked) while the day played shows in its summary."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from typing import Protocol

import httpx

__all__ = ["SERVICES", "Consumers", "consumers", "parked_since", "when_quiet"]

SERVICES = ("intake", "community", "broadcast")
Consumers = dict[str, tuple[int, int]]
"""(processed, parked) of each consumer, by ``service/consumer``."""


class _Urls(Protocol):
    @property
    def intake(self) -> str: ...
    @property
    def community(self) -> str: ...
    @property
    def broadcast(self) -> str: ...


async def consumers(client: httpx.AsyncClient, targets: _Urls) -> Consumers:
    """Every consumer's counts; RuntimeError naming a service that does not answer 200."""
    counts: Consumers = {}
    for name in SERVICES:
        url = getattr(targets, name)
        try:
            response = await client.get(f"{url}/health")
        except httpx.HTTPError as e:
            raise RuntimeError(f"{name} at {url} does not answer ({type(e).__name__}: {e})") from e
        if response.status_code != 200:
            raise RuntimeError(f"{name} at {url}/health answered {response.status_code}: {response.text[:200]}")
        for durable, stats in (response.json().get("consumers") or {}).items():
            counts[f"{name}/{durable}"] = (int(stats.get("processed", 0)), int(stats.get("parked", 0)))
    return counts


async def when_quiet(
    client: httpx.AsyncClient, targets: _Urls, *, quiet_s: float = 2.0, within_s: float = 60.0
) -> Consumers:
    """The counts once no consumer has processed anything for ``quiet_s`` (or after ``within_s``):
    the services have caught up with the day."""
    deadline, last = time.monotonic() + within_s, await consumers(client, targets)
    while time.monotonic() < deadline:
        await asyncio.sleep(quiet_s)
        now = await consumers(client, targets)
        if now == last:
            break
        last = now
    return last


def parked_since(before: Consumers, after: Consumers) -> Counter[str]:
    """How many messages each consumer parked between the two readings."""
    parked = Counter({name: counts[1] - before.get(name, (0, 0))[1] for name, counts in after.items()})
    return +parked  # only those that parked some
