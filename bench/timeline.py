"""The timeline: a full rebuild from the event tables, beside the raw read rate of the same rows,
and one incident's timeline of 10,000 events read page by page from the real timeline service.

The logs are filled with incidents as the services record them (intake: the incident, reports
received and linked; community: the community, invitations, answers, room messages; broadcast:
deliveries, fan-outs and their receipts), one of them with 10,000 events, on top of what earlier
benchmarks of the run left in the same tables (all of it is rebuilt and counted).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4, uuid5

import httpx
import psycopg
from psycopg import sql

from bench.eventlog import service_app
from bench.figures import Context, Figure, Goal, percentile, rate
from bench.services import _SECRET_KEY, service_process
from jikimi.migrate import create_read_models
from services.timeline.rebuild import rebuild
from services.timeline.store import TABLE
from shared.auth import Role, issue_token
from shared.events import Event
from shared.events.broadcast import (
    DeliveryAttempted,
    DeliveryDelivered,
    DeliveryRequested,
    LiveFannedOut,
    LiveReached,
)
from shared.events.common import Actor
from shared.events.community import (
    CandidateScore,
    CommunityAssembled,
    InvitationAccepted,
    MemberInvited,
    MessagePosted,
)
from shared.events.intake import IncidentOpened, ReportLinked, ReportReceived

__all__ = ["BENCHMARKS"]

LOGS = ("intake", "community", "broadcast", "timeline")
BIG = 10_000  # events of the one large incident
PAGE = 100


class _Incident:
    """One incident's events, as each service records them, at minutes after ``start``."""

    def __init__(self, chance: random.Random, start: datetime, *, reports: int, messages: int) -> None:
        self.id = uuid4()
        self.intake: list[Event] = []
        self.community: list[Event] = []
        self.broadcast: list[Event] = []
        at = start
        self.intake.append(
            IncidentOpened(
                originator_id=self.id,
                originator_version=1,
                incident_id=self.id,
                occurred_at=at,
                disaster_type="fire",
                severity="severe",
                title="상가 화재",
            )
        )
        for n in range(reports):
            report = uuid4()
            at += timedelta(seconds=chance.uniform(1, 20))
            received = ReportReceived(
                originator_id=report,
                originator_version=1,
                occurred_at=at,
                channel=chance.choice(("telegram", "kakao", "sms", "web")),
                sender=f"p_{n:06d}",
                channel_message_id=str(n),
                receipt=f"R-{n}",
                text="연신내역 앞 상가 2층에서 불이 났어요 연기가 많이 나요",
            )
            linked = ReportLinked(
                originator_id=report,
                originator_version=2,
                incident_id=self.id,
                occurred_at=at,
                report_id=report,
                reporter=f"p_{n:06d}",
                by=Actor("system", "intake"),
                distance_km=chance.uniform(0, 1),
            )
            self.intake += (received, linked)
        community = uuid5(self.id, "community")
        self.community.append(
            CommunityAssembled(
                originator_id=community,
                originator_version=1,
                incident_id=self.id,
                occurred_at=at,
                disaster_type="fire",
                severity="severe",
                policy_version="2026-11",
            )
        )
        for rank in range(1, 4):
            expert = f"EXP-{chance.randrange(73):03d}"
            self.community.append(
                MemberInvited(
                    originator_id=uuid4(),
                    originator_version=1,
                    incident_id=self.id,
                    occurred_at=at,
                    expert_id=expert,
                    seat_field="fire",
                    rank=rank,
                    score=CandidateScore(expert, 0.8, distance_km=2.0, reason="nearest on call"),
                    expires_at=at + timedelta(minutes=10),
                )
            )
            delivery = uuid4()
            self.broadcast += [
                DeliveryRequested(
                    originator_id=delivery,
                    originator_version=1,
                    incident_id=self.id,
                    occurred_at=at,
                    recipient=expert,
                    channel="telegram",
                    kind="invitation",
                    text="참여 요청: {link}",
                ),
                DeliveryAttempted(
                    originator_id=delivery, originator_version=2, incident_id=self.id, attempt=1, channel="telegram"
                ),
                DeliveryDelivered(
                    originator_id=delivery,
                    originator_version=3,
                    incident_id=self.id,
                    attempt=1,
                    channel="telegram",
                    kind="invitation",
                    recipient=expert,
                ),
            ]
            self.community.append(
                InvitationAccepted(
                    originator_id=uuid4(),
                    originator_version=1,
                    incident_id=self.id,
                    expert_id=expert,
                    seat_field="fire",
                )
            )
        members = [f"expert:EXP-{n:03d}" for n in range(3)] + ["department:FS-11440", "operator:*"]
        for n in range(messages):
            at += timedelta(seconds=chance.uniform(5, 60))
            posted = MessagePosted(
                originator_id=community,
                originator_version=n + 2,
                incident_id=self.id,
                occurred_at=at,
                author="operator:alice",
                text=f"상황 {n}: 2층 계단 쪽 진입 가능",
                audience=members,
            )
            fan_out = uuid5(posted.id, "fan-out")
            self.community.append(posted)
            self.broadcast += [
                LiveFannedOut(
                    originator_id=fan_out,
                    originator_version=1,
                    incident_id=self.id,
                    occurred_at=at,
                    causation_id=posted.id,
                    members=members[:-1],
                    text=posted.text,
                ),
                LiveReached(originator_id=fan_out, originator_version=2, incident_id=self.id, members=members[:2]),
            ]

    @property
    def size(self) -> int:
        return len(self.intake) + len(self.community) + len(self.broadcast)


def _incidents(count: int) -> Iterator[_Incident]:
    chance = random.Random(6)
    start = datetime(2026, 11, 24, tzinfo=UTC)
    for n in range(count):
        yield _Incident(chance, start + timedelta(minutes=5 * n), reports=chance.randrange(1, 40), messages=60)


def _big_incident() -> _Incident:
    """1,999 reports and 1,995 room messages: 10,000 events with the community and deliveries."""
    incident = _Incident(random.Random(10), datetime(2026, 11, 24, 18, tzinfo=UTC), reports=1_999, messages=1_995)
    assert incident.size == BIG, incident.size
    return incident


def _record(ctx: Context, incidents: Sequence[_Incident]) -> int:
    recorded = 0
    for log in ("intake", "community", "broadcast"):
        with service_app(log, ctx.database) as app:
            events = [e for incident in incidents for e in getattr(incident, log)]
            for start in range(0, len(events), 2_000):
                app.record(*events[start : start + 2_000])
            recorded += len(events)
    return recorded


def _raw_read(url: str) -> tuple[int, float]:
    """Every row of the logs, out of PostgreSQL the way the rebuild reads them, and nothing done."""
    count = 0
    started = time.perf_counter()
    with psycopg.connect(url) as conn:
        for log in LOGS:
            if conn.execute("SELECT to_regclass(%s)", (f"{log}_events",)).fetchone() == (None,):
                continue
            query = sql.SQL(
                "COPY (SELECT notification_id, state FROM {} ORDER BY notification_id) TO STDOUT (FORMAT BINARY)"
            )
            with conn.cursor().copy(query.format(sql.Identifier(f"{log}_events"))) as copy:
                copy.set_types(["int8", "bytea"])
                for _ in copy.rows():
                    count += 1
    return count, time.perf_counter() - started


async def timeline_rebuild_and_query(ctx: Context) -> Sequence[Figure]:
    """Rebuild the timeline from every log; read the 10,000-event incident page by page."""
    big = _big_incident()
    incidents = [big, *_incidents(900)]
    await asyncio.to_thread(_record, ctx, incidents)
    await asyncio.to_thread(create_read_models, ctx.database)
    raw_count, raw_s = await asyncio.to_thread(_raw_read, ctx.database.url)
    rebuilt = await asyncio.to_thread(rebuild, ctx.database.url, LOGS)
    pages, whole_s = await _read_pages(ctx, big.id)
    return [
        Figure(name="timeline_raw_read_events_per_s", value=rate(raw_count, raw_s), unit="events/s"),
        Figure(name="timeline_rebuilt_events", value=rebuilt.total, unit="events"),
        Figure(
            name="timeline_rebuild_events_per_s",
            value=rebuilt.per_second,
            unit="events/s",
            limit_of=("timeline_raw_read_events_per_s",),
            goal=Goal(at_least=100_000),
        ),
        Figure(name="timeline_page_p50_ms", value=percentile(pages, 50), unit="ms"),
        Figure(name="timeline_page_p99_ms", value=percentile(pages, 99), unit="ms", goal=Goal(at_most=50)),
        Figure(name="timeline_whole_10k_s", value=whole_s, unit="s"),
    ]


async def _read_pages(ctx: Context, incident_id: UUID) -> tuple[list[float], float]:
    """Pages of 100 of the big incident through the real service (each page from a cursor taken
    at random along the timeline), then the whole timeline in pages of 1,000."""
    token = issue_token(_SECRET_KEY.encode(), "bench", Role.ANALYST, ttl_s=3600)
    headers = {"Authorization": f"Bearer {token}"}
    path = f"/incidents/{incident_id}/timeline"
    async with service_process(ctx, "timeline") as url, httpx.AsyncClient(base_url=url, headers=headers) as client:
        await _until_filed(ctx.database.url)
        cursors: list[str | None] = [None]
        whole_started = time.perf_counter()
        while True:
            page = (await client.get(path, params={"limit": 1000, **_after(cursors[-1])})).json()
            if page["next"] is None:
                break
            cursors.append(page["next"])
        whole_s = time.perf_counter() - whole_started
        chance = random.Random(1)
        times = []
        for _ in range(300):
            started = time.perf_counter()
            answer = await client.get(path, params={"limit": PAGE, **_after(chance.choice(cursors))})
            times.append((time.perf_counter() - started) * 1000)
            assert answer.status_code == 200, answer.text
    return times, whole_s


def _after(cursor: str | None) -> dict[str, str]:
    return {"after": cursor} if cursor else {}


async def _until_filed(url: str) -> None:
    """Until the service's projector has caught up with the stream (the table stops growing)."""
    last = -1
    for _ in range(120):
        with psycopg.connect(url) as conn:
            row = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(TABLE))).fetchone()
        if row is not None and row[0] == last:
            return
        last = row[0] if row is not None else -1
        await asyncio.sleep(1.0)


BENCHMARKS = (timeline_rebuild_and_query,)
