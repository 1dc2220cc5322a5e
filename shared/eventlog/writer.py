"""One writer per service process: decisions in order, commits shared.

Commands are queued; the writer takes every command waiting, decides each against the state
as left by the ones before it (so two reports of one fire in the same instant still make one
incident), and commits all their events in ONE transaction: concurrent requests share a
commit, which is how intake keeps up with more reports per second than PostgreSQL has
single-row commits. Each caller's future resolves only after that commit. If the shared
commit fails, the state is rebuilt from the log and the commands are retried one by one, so
one bad command cannot sink the others.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar

import structlog

from shared.eventlog.application import ServiceApplication
from shared.events import Event, utc_now

__all__ = ["Outcome", "State", "Writer"]

log = structlog.get_logger()


class Outcome(Protocol):
    @property
    def events(self) -> Sequence[Event]: ...


class State(Protocol):
    """The writer's view of the service's state: follows the log, folds events in idempotently."""

    def catch_up(self) -> int: ...
    def apply(self, event: Event) -> None: ...
    def reset(self) -> None: ...


S = TypeVar("S", bound=State)
Command = Callable[[S, datetime], Outcome]
_Queued = tuple[Callable[[Any, datetime], Outcome], "asyncio.Future[Any]"]


class Writer(Generic[S]):
    """Serialises commands against ``state`` and commits their events in shared transactions."""

    def __init__(self, app: ServiceApplication, state: S, *, max_batch: int = 500) -> None:
        self.app = app
        self.state = state
        self._max_batch = max_batch
        self._queue: asyncio.Queue[_Queued] = asyncio.Queue()
        self.commits = 0

    async def submit(self, command: Callable[[S, datetime], Outcome]) -> Any:
        """Run ``command`` in turn; returns its outcome once its events are committed."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        await self._queue.put((command, future))
        return await future

    async def run(self, stop: asyncio.Event) -> None:
        """Take queued commands until ``stop`` is set."""
        stopping = asyncio.create_task(stop.wait())
        try:
            while not stop.is_set():
                getting = asyncio.create_task(self._queue.get())
                await asyncio.wait({getting, stopping}, return_when=asyncio.FIRST_COMPLETED)
                if not getting.done():
                    getting.cancel()
                    break
                batch = [getting.result()]
                while len(batch) < self._max_batch and not self._queue.empty():
                    batch.append(self._queue.get_nowait())
                results = await asyncio.to_thread(self._process, batch)
                for (_, future), result in zip(batch, results, strict=True):
                    if future.done():
                        continue  # the caller went away
                    if isinstance(result, BaseException):
                        future.set_exception(result)
                    else:
                        future.set_result(result)
        finally:
            stopping.cancel()

    def _process(self, batch: Sequence[_Queued]) -> list[Any]:
        # Others may catch the same state up from other threads: decide under its lock.
        with getattr(self.state, "lock", contextlib.nullcontext()):
            return self._process_locked(batch)

    def _process_locked(self, batch: Sequence[_Queued]) -> list[Any]:
        self.state.catch_up()
        now = utc_now()
        results: list[Any] = []
        events: list[Event] = []
        for command, _ in batch:
            try:
                outcome = command(self.state, now)
            except Exception as e:  # a refused command answers its own caller
                results.append(e)
                continue
            for event in outcome.events:
                self.state.apply(event)
            events.extend(outcome.events)
            results.append(outcome)
        if not events:
            return results
        try:
            self.app.record(*events)
            self.commits += 1
            return results
        except Exception as e:  # fall back to one command per commit
            log.warning("shared_commit_failed", commands=len(batch), error=repr(e))
        self.state.reset()
        return [self._process_alone(command) for command, _ in batch]

    def _process_alone(self, command: Callable[[S, datetime], Outcome]) -> Any:
        self.state.catch_up()
        try:
            outcome = command(self.state, utc_now())
            self.app.record(*outcome.events)
        except Exception as e:  # answered to its caller
            self.state.reset()
            return e
        for event in outcome.events:
            self.state.apply(event)
        self.commits += 1
        return outcome
