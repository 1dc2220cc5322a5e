"""Community: how long assembly takes as the expert pool grows, and incident opened (intake's
commit) → first invitations recorded (community's commit) across the real service processes."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Iterator, Sequence
from datetime import datetime
from uuid import UUID, uuid4

import msgspec

from bench.eventlog import service_app
from bench.figures import Context, Figure, Goal, percentile, rate
from bench.pipeline import Stateless, recorder_of, running, send_paced
from bench.services import service_process
from services.community.assembly import assemble
from services.community.policy import load_policy
from services.community.registry import FIELDS, Expert, load_departments, load_experts
from services.community.view import community_id
from shared.eventlog.application import ServiceApplication
from shared.eventlog.writer import Writer
from shared.events import CODEC, Event
from shared.events.common import Actor, GeoPoint, Location
from shared.events.community import CommunityAssembled
from shared.events.intake import IncidentOpened

__all__ = ["BENCHMARKS"]

_TYPES = ("fire", "gas_leak", "inundation", "building_collapse", "first_aid")


def _pool(size: int) -> list[Expert]:
    """``size`` experts: the seed pool, copied with new ids and nearby places until big enough."""
    seed = [e for e in load_experts() if e.active]
    chance = random.Random(size)
    return [
        msgspec.structs.replace(
            seed[n % len(seed)],
            id=f"EXP-{n:05d}",
            lat=seed[n % len(seed)].lat + chance.uniform(-0.01, 0.01),
            lon=seed[n % len(seed)].lon + chance.uniform(-0.01, 0.01),
        )
        for n in range(size)
    ]


async def assembly_by_pool_size(ctx: Context) -> Sequence[Figure]:
    departments = load_departments()
    policy = load_policy(frozenset(FIELDS), frozenset(d.kind for d in departments))
    plan = policy.plan_for("fire", "severe")
    figures = []
    for size in (73, 1_000, 10_000):
        pool = _pool(size)
        runs = max(5, 20_000 // size)
        start = time.perf_counter()
        for _ in range(runs):
            assemble(
                plan=plan,
                policy_version=policy.version,
                disaster_type="fire",
                at=(37.5594, 126.9081),
                district_code="11440",
                experts=pool,
                departments=departments,
                load={},
                now=datetime.now().astimezone(),
            )
        figures.append(
            Figure(
                name=f"community_assembly_ms_pool_{size}", value=(time.perf_counter() - start) / runs * 1000, unit="ms"
            )
        )
    return figures


def _opened(chance: random.Random) -> IncidentOpened:
    incident = uuid4()
    return IncidentOpened(
        originator_id=incident,
        originator_version=1,
        incident_id=incident,
        disaster_type=chance.choice(_TYPES),
        severity="moderate",
        title="bench",
        location=Location(point=GeoPoint(chance.uniform(37.45, 37.68), chance.uniform(126.82, 127.15)), source="gps"),
        opened_by=Actor("system", "bench"),
    )


async def opened_to_invited(ctx: Context) -> Sequence[Figure]:
    """Incidents opened at 200/s in intake's log; the community process invites; the time from
    IncidentOpened.recorded_at to the commit of its community (with its first invitations) for each."""
    per_s, count = 200.0, round(200 * max(3.0, ctx.sizes.e2e_s))
    chance = random.Random(200)
    async with service_process(ctx, "intake"), service_process(ctx, "community"):
        with service_app("intake", ctx.database) as intake, service_app("community", ctx.database) as community:
            writer: Writer[Stateless] = Writer(intake, Stateless())
            opened_at: dict[UUID, datetime] = {}

            ours: set[UUID] = set()

            def command(_: object, __: datetime) -> _One:
                event = _opened(chance)
                ours.add(event.originator_id)
                return _One(event)

            async with running(writer.run):
                await _drained(writer, community, chance)
                sent_s = await send_paced(writer, count, per_s, command)
            deadline = time.monotonic() + 60
            first: dict[UUID | None, datetime] = {}
            read = {"intake": 0, "community": 0}

            def newly(name: str, app: ServiceApplication) -> Iterator[Event]:
                while page := recorder_of(app).select_notifications(read[name], 5000, inclusive_of_start=False):
                    read[name] = page[-1].id
                    yield from (CODEC.decode(n.state) for n in page)

            while time.monotonic() < deadline:
                opened_at.update(
                    {
                        e.originator_id: e.recorded_at
                        for e in newly("intake", intake)
                        if isinstance(e, IncidentOpened) and e.originator_id in ours
                    }
                )
                for event in newly("community", community):
                    # Its first invitations are recorded in the transaction of CommunityAssembled, at
                    # its time; that also times an incident whose seats nobody was left to take (the
                    # backlog of earlier benchmarks' incidents can hold every expert of a field).
                    if isinstance(event, CommunityAssembled) and event.incident_id not in first:
                        first[event.incident_id] = event.recorded_at
                if sum(1 for i in opened_at if i in first) >= count * 0.95:
                    break
                await asyncio.sleep(0.5)
    latencies = [(first[i] - opened_at[i]).total_seconds() * 1000 for i in opened_at if i in first]
    return [
        Figure(name="community_incidents_per_s", value=rate(count, sent_s), unit="incidents/s"),
        Figure(name="community_opened_to_invited_p50_ms", value=percentile(latencies, 50), unit="ms"),
        Figure(
            name="community_opened_to_invited_p99_ms", value=percentile(latencies, 99), unit="ms", goal=Goal(at_most=50)
        ),
    ]


async def _drained(writer: Writer[Stateless], community: ServiceApplication, chance: random.Random) -> None:
    """Wait until community has worked through what earlier benchmarks left in intake's log (it
    reads in order: once a fresh incident is invited, the backlog is behind it)."""
    sentinel = _opened(chance)
    await writer.submit(lambda _, __: _One(sentinel))
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if recorder_of(community).select_events(community_id(sentinel.originator_id), limit=1):
            return
        await asyncio.sleep(0.2)
    raise TimeoutError("community did not catch up with intake's log within 5 min")


class _One:
    def __init__(self, event: Event) -> None:
        self.events = [event]


BENCHMARKS = (assembly_by_pool_size, opened_to_invited)
