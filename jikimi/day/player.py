"""Plays a plan through the real services over HTTP: citizens' messages to intake's channels,
operators' actions with operator tokens, experts' answers by their phone links or their tokens,
room posts. Each incident is played in order by a task of its own; requests are bounded.

Experts answer only invitations that reached them (broadcast's deliveries of the incident say
so), in the order they come, as the plan says; an incident is closed once every invitation that
reached someone was answered or left to time out (or after ``grace_s``). Every error response is
kept in the summary; none is retried.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

import httpx

from jikimi.day import health
from jikimi.day.answers import Answering
from jikimi.day.model import Close, Escalate, Incident, MakePublic, Message, Plan, Post, UpdateSituation
from jikimi.day.summary import Summary
from jikimi.day.wire import Wire
from shared.auth import Role, issue_token
from shared.taxonomy import Severity

__all__ = ["Player", "Targets", "play"]


@dataclass(frozen=True)
class Targets:
    """Where the services answer, and the secrets the day needs to act as the city's own people."""

    intake: str
    community: str
    broadcast: str
    secret_key: bytes = field(repr=False)
    channel_secrets: Mapping[str, str] = field(default_factory=dict, repr=False)


class Clock:
    """Plan time to wall time: ``speed`` plan seconds a second, or none to wait for (``None``)."""

    def __init__(self, speed: float | None) -> None:
        self.speed = speed
        self.start = time.monotonic()

    def wall(self, plan_s: float) -> float:
        return 0.0 if self.speed is None else plan_s / self.speed

    async def until(self, at_s: float) -> float:
        """Wait until plan time ``at_s``; how late that was, in wall seconds."""
        delay = self.start + self.wall(at_s) - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        return max(0.0, -delay) if self.speed is not None else 0.0


@dataclass
class Live:
    """One incident while it is played."""

    incident: Incident
    incident_id: UUID | None = None
    answering: Answering | None = None


_NAMES: dict[type, str] = {
    Escalate: "escalate",
    UpdateSituation: "update",
    MakePublic: "public",
    Post: "post",
    Close: "close",
}


class Player:
    def __init__(
        self,
        plan: Plan,
        targets: Targets,
        *,
        speed: float | None,
        run: str,
        concurrency: int = 16,
        poll_s: float = 0.5,
        grace_s: float = 30.0,
        quiet_s: float = 2.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.plan, self.targets, self.poll_s, self.grace_s, self.quiet_s = plan, targets, poll_s, grace_s, quiet_s
        self.clock = Clock(speed)
        self.wire = Wire(run, targets.channel_secrets)
        self.summary = Summary(plan.seed, plan.month, len(plan.incidents), speed, run)
        self._transport = transport
        self._concurrency = concurrency
        self._requests = asyncio.Semaphore(concurrency)
        # Played as fast as possible, a few incidents per request slot are in flight at once.
        self._lanes = asyncio.Semaphore(concurrency * 4) if speed is None else None
        self._closed = {i.number: asyncio.Event() for i in plan.incidents}
        self._tokens: dict[tuple[Role, str], str] = {}
        last = max((a.at_s for i in plan.incidents for a in i.actions), default=0.0)
        self._token_ttl_s = int(self.clock.wall(last) + 12 * 3600)
        self._index: dict[tuple[int, int], int] = {}
        for incident in sorted(plan.incidents, key=lambda i: i.number):
            for position, action in enumerate(incident.actions):
                if isinstance(action, Message):
                    self._index[incident.number, position] = len(self._index)
        self.client: httpx.AsyncClient

    async def play(self) -> Summary:
        """Play every incident; the summary of what was done and what failed."""
        started = time.monotonic()
        # Idle connections are let go before uvicorn's own 5 s keep-alive ends: a request sent on
        # a connection the server is closing that moment fails without an answer.
        limits = httpx.Limits(max_connections=self._concurrency * 2, keepalive_expiry=2.0)
        async with httpx.AsyncClient(timeout=30.0, transport=self._transport, limits=limits) as self.client:
            before = await health.consumers(self.client, self.targets)
            self.clock = Clock(self.clock.speed)
            lanes = sorted(self.plan.incidents, key=lambda i: (i.actions[0].at_s, i.number))
            await asyncio.gather(*(self._lane(incident) for incident in lanes))
            self.summary.wall_s = time.monotonic() - started
            after = await health.when_quiet(self.client, self.targets, quiet_s=self.quiet_s)
            self.summary.parked = health.parked_since(before, after)
        return self.summary

    def token(self, role: Role, subject: str) -> dict[str, str]:
        """The Authorization header of ``subject`` acting as ``role``, minted once per run."""
        if (role, subject) not in self._tokens:
            self._tokens[role, subject] = issue_token(self.targets.secret_key, subject, role, ttl_s=self._token_ttl_s)
        return {"Authorization": f"Bearer {self._tokens[role, subject]}"}

    async def call(
        self,
        what: str,
        method: str,
        url: str,
        *,
        shown: str = "",
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        quiet: frozenset[int] = frozenset(),
    ) -> httpx.Response | None:
        """The response, or None after recording why there is none worth having (``quiet``
        statuses are expected ones: returned, not recorded). ``shown`` is the path to report,
        for URLs that carry a link's token."""
        path = shown or httpx.URL(url).raw_path.decode()
        async with self._requests:
            try:
                response = await self.client.request(method, url, json=body, headers=headers)
            except httpx.HTTPError as e:
                self.summary.fail(what, method, path, None, f"{type(e).__name__}: {e}")
                return None
        if response.is_success or response.status_code in quiet:
            return response
        self.summary.fail(what, method, path, response.status_code, response.text)
        return None

    async def _lane(self, incident: Incident) -> None:
        for number in incident.after:
            await self._closed[number].wait()
        live = Live(incident)
        try:
            async with self._lanes or contextlib.nullcontext():
                for position, action in enumerate(incident.actions):
                    self.summary.late_s = max(self.summary.late_s, await self.clock.until(action.at_s))
                    await self._act(live, action, position)
        finally:
            if live.answering is not None:
                await live.answering.stop()
            self._closed[incident.number].set()

    async def _act(self, live: Live, action: Any, position: int) -> None:
        if isinstance(action, Message):
            await self._send(live, action, self._index[live.incident.number, position])
            return
        name = _NAMES[type(action)]
        if live.incident_id is None:
            self.summary.skipped[f"{name}: the incident was never opened"] += 1
            return
        if isinstance(action, Post):
            await self._post(live, action)
            return
        if isinstance(action, Close) and live.answering is not None and not await live.answering.settled(self.grace_s):
            self.summary.notes["closed before every invitation that reached an expert was answered"] += 1
        done = await self._operate(live.incident_id, action, f"incident {live.incident.number}: {name}")
        if done:
            self.summary.operations[name] += 1

    async def _send(self, live: Live, message: Message, index: int) -> None:
        request = self.wire.request(message, index)
        self.summary.messages[request.channel] += 1
        if request.channel != message.channel:
            self.summary.rerouted[message.channel] += 1
        what = f"incident {live.incident.number}: {message.channel} message of citizen {message.citizen}"
        response = await self.call(
            what, "POST", self.targets.intake + request.path, body=request.body, headers=request.headers
        )
        if response is None or live.incident_id is not None:
            return
        found = response.json().get("incident_id") if request.channel in {"web", "sms"} else None
        if found:
            self._opened(live, UUID(found))
        elif message.placed:
            await self._find(live)

    async def _find(self, live: Live) -> None:
        """The incident the report opened or joined, from the board (KakaoTalk's and Telegram's
        answers are the channel's reply, without it): the newest open one of its type and district."""
        incident = live.incident
        query = f"?district={incident.district_code}&type={incident.disaster_type}&status=open"
        what = f"incident {incident.number}: find it on the board"
        for _ in range(10):
            response = await self.call(what, "GET", f"{self.targets.intake}/incidents{query}", headers=self._operator())
            if response is None:
                return
            if found := response.json():
                newest = max(found, key=lambda i: datetime.fromisoformat(i["opened_at"]))
                self._opened(live, UUID(newest["id"]))
                return
            await asyncio.sleep(0.2)
        self.summary.fail(
            what, "GET", "/incidents", 200, f"no open {incident.disaster_type} in {incident.district_code}"
        )

    def _opened(self, live: Live, incident_id: UUID) -> None:
        live.incident_id = incident_id
        self.summary.incidents[live.incident.number] = incident_id
        live.answering = Answering(self, live.incident.number, incident_id, live.incident.answers)
        live.answering.start()

    def _operator(self, subject: str = "op-day") -> dict[str, str]:
        return self.token(Role.OPERATOR, subject)

    async def _operate(
        self, incident_id: UUID, action: Escalate | UpdateSituation | MakePublic | Close, what: str
    ) -> bool:
        base, headers = f"{self.targets.intake}/incidents/{incident_id}", self._operator(action.operator)
        body: dict[str, Any]
        if isinstance(action, Escalate):
            found = await self.call(what, "GET", base, headers=headers)
            if found is None:
                return False
            severity = Severity(found.json()["severity"])
            if severity == Severity.EXTREME:
                self.summary.skipped["escalate: already extreme"] += 1
                return False
            url, body = f"{base}/escalate", {"severity": severity.escalated().value, "reason": action.reason}
        elif isinstance(action, UpdateSituation):
            body = {"text": action.text}
            for key, value in (("casualties_injured", action.injured), ("casualties_dead", action.dead)):
                if value is not None:
                    body[key] = value
            url = f"{base}/updates"
        elif isinstance(action, MakePublic):
            url, body = f"{base}/public", {"headline": action.headline, "instruction": action.instruction}
        else:
            url, body = f"{base}/close", {"outcome": action.outcome, "summary": action.summary}
        return await self.call(what, "POST", url, body=body, headers=headers) is not None

    async def _post(self, live: Live, post: Post) -> None:
        assert live.incident_id is not None
        assert live.answering is not None
        if not await live.answering.assembled(self.grace_s):
            self.summary.skipped["post: no community"] += 1
            return
        if post.author == "operator":
            headers = self._operator(post.operator)
        else:
            await live.answering.settled(self.grace_s)  # the answers due by now, given
            if not live.answering.accepted:
                self.summary.skipped["expert post: nobody had accepted"] += 1
                return
            headers = self.token(Role.EXPERT, live.answering.accepted[0])
        url = f"{self.targets.community}/communities/{live.incident_id}/room/messages"
        what = f"incident {live.incident.number}: {post.author}'s room post"
        if await self.call(what, "POST", url, body={"text": post.text}, headers=headers) is not None:
            self.summary.posts[post.author] += 1


async def play(
    plan: Plan,
    targets: Targets,
    *,
    speed: float | None,
    run: str,
    concurrency: int = 16,
    quiet_s: float = 2.0,
    transport: httpx.AsyncBaseTransport | None = None,
) -> Summary:
    """Play ``plan`` against ``targets``: ``speed`` plan seconds per wall second (720 plays a day in
    two minutes), or as fast as the services answer when None; then wait until the services'
    consumers have been idle for ``quiet_s`` and count what they parked meanwhile."""
    player = Player(plan, targets, speed=speed, run=run, concurrency=concurrency, quiet_s=quiet_s, transport=transport)
    return await player.play()
