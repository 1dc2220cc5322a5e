"""Fakes at the NATS boundary, for consumer tests that need no server."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from shared.events import Event, encode


@dataclass
class FakeSequence:
    stream: int
    consumer: int = 0


@dataclass
class FakeMetadata:
    sequence: FakeSequence
    num_delivered: int = 1


@dataclass
class FakeMsg:
    """What StreamConsumer reads of a JetStream message, and what it answered."""

    data: bytes
    subject: str
    metadata: FakeMetadata
    headers: dict[str, str] = field(default_factory=dict)
    answers: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, event: Event, sequence: int, *, delivered: int = 1) -> FakeMsg:
        return cls(
            data=encode(event),
            subject=event.subject(),
            metadata=FakeMetadata(FakeSequence(sequence), delivered),
            headers={"Nats-Msg-Id": f"{event.service}:{event.position}"},
        )

    async def ack(self) -> None:
        self.answers.append("ack")

    async def nak(self, delay: float | None = None) -> None:
        self.answers.append(f"nak {delay}")

    async def term(self) -> None:
        self.answers.append("term")


@dataclass
class FakeJetStream:
    published: list[tuple[str, bytes, dict[str, str]]] = field(default_factory=list)

    async def publish(
        self, subject: str, payload: bytes = b"", headers: dict[str, str] | None = None, **_: Any
    ) -> None:
        self.published.append((subject, payload, headers or {}))
