"""The follower reads the stream's public events from its first message into the view, says when
it has caught up, and after a broken connection resumes right after the last message it applied."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from nats.errors import TimeoutError as NatsTimeoutError
from nats.js.api import ConsumerConfig

from services.broadcast.public import PublicFollower, PublicView, public_subjects
from shared.events import CODEC
from tests.unit.broadcast.test_public_events import Story, national


@dataclass
class _Meta:
    sequence: Any
    num_pending: int


@dataclass
class _Seq:
    stream: int


@dataclass
class _Msg:
    data: bytes
    metadata: _Meta


@dataclass
class FakeStream:
    """The stream's messages (already filtered to the public subjects), and the consumers asked for."""

    messages: list[bytes]
    configs: list[ConsumerConfig] = field(default_factory=list)
    fail_after: int | None = None  # the connection breaks once this many messages were fetched
    fetched: int = 0

    def jetstream(self) -> FakeStream:
        return self

    async def pull_subscribe(self, subject: str, *, stream: str, config: ConsumerConfig) -> _Sub:
        self.configs.append(config)
        return _Sub(self, (config.opt_start_seq or 1) - 1)

    async def delete_consumer(self, stream: str, name: str) -> None:
        pass


@dataclass
class _Sub:
    stream: FakeStream
    position: int

    async def fetch(self, batch: int, timeout: float) -> list[_Msg]:  # noqa: ASYNC109 -- nats-py's signature
        await asyncio.sleep(0)  # a real fetch waits on the network, letting other tasks run
        if self.stream.fail_after is not None and self.stream.fetched >= self.stream.fail_after:
            self.stream.fail_after = None
            raise ConnectionError("connection lost")
        if self.position >= len(self.stream.messages):
            raise NatsTimeoutError
        self.position += 1
        self.stream.fetched += 1
        pending = len(self.stream.messages) - self.position
        return [_Msg(self.stream.messages[self.position - 1], _Meta(_Seq(self.position), pending))]

    async def consumer_info(self) -> Any:
        return _Meta(_Seq(self.position), len(self.stream.messages) - self.position)

    async def unsubscribe(self) -> None:
        pass


async def run_until_caught_up(follower: PublicFollower, view: PublicView) -> None:
    """Run the follower until the view has caught up; a failure of the follower is raised."""
    stop = asyncio.Event()
    task = asyncio.create_task(follower.run(stop))
    caught_up = asyncio.create_task(view.caught_up.wait())
    await asyncio.wait({task, caught_up}, timeout=5, return_when=asyncio.FIRST_COMPLETED)
    caught_up.cancel()
    stop.set()
    await task


async def test_the_view_is_the_fold_of_the_whole_stream_and_says_when_it_has_caught_up() -> None:
    story = Story()
    events = [story.opened, story.made_public(), national()]
    stream = FakeStream([CODEC.encode(e) for e in events] + [b'{"type": "intake.from_the_future"}'])
    view = PublicView()

    await run_until_caught_up(PublicFollower(view, lambda: stream, stream="JIKIMI"), view)  # type: ignore[arg-type,return-value]

    assert [i.id for i in view.public_incidents()] == [story.id]
    assert len(view.alerts) == 1
    assert view.sequence == 4
    assert stream.configs[0].opt_start_seq == 1
    assert stream.configs[0].filter_subjects == public_subjects()


async def test_after_a_broken_connection_it_resumes_after_the_last_message_it_applied() -> None:
    story = Story()
    events = [story.opened, story.made_public(), story.escalated(), story.updated("진화 중")]
    stream = FakeStream([CODEC.encode(e) for e in events], fail_after=2)
    view = PublicView()
    follower = PublicFollower(view, lambda: stream, stream="JIKIMI")  # type: ignore[arg-type,return-value]

    try:
        await run_until_caught_up(follower, view)
    except ConnectionError:
        await run_until_caught_up(follower, view)  # as the runtime starts a failed loop again

    assert [c.opt_start_seq for c in stream.configs] == [1, 3]
    [incident] = view.public_incidents()
    assert [m.msg_type for m in incident.messages] == ["Alert", "Update", "Update"]
