"""The experts an incident invites, answering as the plan says.

A watcher follows the incident's community (its members and their invitations) and broadcast's
deliveries of its invitations. Each invitation that reached its expert gets the plan's next
answer, after the plan's delay: accepted or declined by the phone link (a token minted with the
service's key, as broadcast mints it when it sends one) or by the expert's own token, or left to
time out.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from jikimi.day.model import Answer
from jikimi.day.summary import Given
from shared.auth import Role
from shared.links import invitation_token

if TYPE_CHECKING:
    from jikimi.day.player import Player

__all__ = ["Answering"]

ASSEMBLY_TIMEOUT_S = 60.0
"""How long an opened incident may go without a community before the day says so."""


class Answering:
    """The invited experts of one incident, until ``stop()``."""

    def __init__(self, player: Player, number: int, incident_id: UUID, answers: Sequence[Answer]) -> None:
        self.player, self.number, self.incident_id = player, number, incident_id
        self.planned, self.answers = tuple(answers), deque(answers)
        self.accepted: list[str] = []
        """Experts who accepted, in the order they did."""
        self._handled: set[str] = set()
        self._invited: set[str] = set()
        self._giving: set[asyncio.Task[None]] = set()
        self._assembled, self._settled, self._stop = asyncio.Event(), asyncio.Event(), asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._watch())

    async def stop(self) -> None:
        """Stop watching, once the answers on their way have been given."""
        self._stop.set()
        if self._task is not None:
            await self._task
        await asyncio.gather(*self._giving)
        self.player.summary.unreached += len(self._invited - self._handled)

    async def assembled(self, within_s: float) -> bool:
        """Whether the incident's community exists (waiting up to ``within_s`` for it)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._assembled.wait(), within_s)
        return self._assembled.is_set()

    async def settled(self, within_s: float) -> bool:
        """Whether every invitation that reached its expert has been answered or left (waiting up
        to ``within_s`` for it)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._settled.wait(), within_s)
        return self._settled.is_set()

    async def _watch(self) -> None:
        player, started = self.player, time.monotonic()
        url = f"{player.targets.community}/communities/{self.incident_id}"
        what = f"incident {self.number}: its community"
        while not self._stop.is_set():
            response = await player.call(
                what, "GET", url, headers=player.token(Role.OPERATOR, "op-day"), quiet=frozenset({404})
            )
            if response is None:
                break  # recorded; a service that fails once would fail every poll
            if response.status_code == 200:
                self._assembled.set()
                if not await self._answer_reached(response.json()["members"]):
                    break
            elif time.monotonic() - started > ASSEMBLY_TIMEOUT_S:
                player.summary.fail(what, "GET", f"/communities/{self.incident_id}", 404, "no community assembled")
                break
            settled = self._settled.is_set()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), player.poll_s * (4 if settled else 1))
        self._settled.set()  # nothing more will be answered: nobody waits for it

    async def _answer_reached(self, members: list[dict[str, Any]]) -> bool:
        """Give the plan's answers to the invitations that reached their experts; False if
        broadcast could not say which did."""
        self._invited.update(m["expert_id"] for m in members if m["status"] in {"invited", "undeliverable"})
        waiting = [m for m in members if m["status"] == "invited" and m["expert_id"] not in self._handled]
        if not waiting:
            if not self._giving:
                self._settled.set()
            return True
        self._settled.clear()
        player = self.player
        url = f"{player.targets.broadcast}/incidents/{self.incident_id}/deliveries?kind=invitation"
        what = f"incident {self.number}: its invitations' deliveries"
        response = await player.call(what, "GET", url, headers=player.token(Role.OPERATOR, "op-day"))
        if response is None:
            return False
        reached = {d["member"] for d in response.json() if d["status"] == "delivered"}
        for member in waiting:
            if f"expert:{member['expert_id']}" in reached:
                self._handle(member["expert_id"], datetime.fromisoformat(member["expires_at"]))
        return True

    def _handle(self, expert_id: str, expires_at: datetime) -> None:
        self._handled.add(expert_id)
        if not self.answers:
            self.player.summary.unplanned += 1
            return
        order, answer = len(self.planned) - len(self.answers), self.answers.popleft()
        if answer.decision == "ignore":
            self.player.summary.answers.append(Given(self.number, order, expert_id, "ignore", answer.via))
            return
        task = asyncio.create_task(self._give(expert_id, answer, expires_at, order))
        self._giving.add(task)
        task.add_done_callback(self._giving.discard)

    async def _give(self, expert_id: str, answer: Answer, expires_at: datetime, order: int) -> None:
        player = self.player
        await asyncio.sleep(player.clock.wall(answer.after_s))
        verb = answer.decision
        body = {"reason": answer.reason} if verb == "decline" else None
        what = f"incident {self.number}: {expert_id} to {verb} by {answer.via}"
        if answer.via == "link":
            key = player.targets.secret_key
            token = invitation_token(key, self.incident_id, expert_id, expires_at=expires_at, now=datetime.now(UTC))
            url, shown = f"{player.targets.community}/invitations/{token}/{verb}", f"/invitations/<link>/{verb}"
            response = await player.call(what, "POST", url, shown=shown, body=body)
        else:
            url = f"{player.targets.community}/communities/{self.incident_id}/invitations/{expert_id}/{verb}"
            response = await player.call(what, "POST", url, body=body, headers=player.token(Role.EXPERT, expert_id))
        player.summary.answers.append(Given(self.number, order, expert_id, verb, answer.via, ok=response is not None))
        if verb == "accept" and response is not None:
            self.accepted.append(expert_id)
