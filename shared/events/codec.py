"""Encoding and decoding events: one encoder, one decoder per set of event types."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Union

import msgspec

from shared.events.base import Event

__all__ = ["EventCodec", "UnknownEventError", "encode"]

_encoder = msgspec.json.Encoder()


class UnknownEventError(ValueError):
    """Raised when bytes do not decode to any event type this codec knows."""


def encode(event: Event) -> bytes:
    """The event as JSON bytes, its tag in ``type``."""
    return _encoder.encode(event)


class EventCodec:
    """Decodes the tagged union of ``types``; older schema versions come back upcast."""

    def __init__(self, types: Iterable[type[Event]]) -> None:
        self.types = tuple(types)
        self.tags = tuple(t.wire_tag() for t in self.types)
        union: Any = Union[self.types]  # noqa: UP007 -- a runtime union of a tuple needs Union[...]
        self._decoder: msgspec.json.Decoder[Event] = msgspec.json.Decoder(union)

    def decode(self, data: bytes | memoryview) -> Event:
        """The event in ``data``, upcast to its current version; unknown fields are ignored."""
        try:
            return self._decoder.decode(data).upcast()
        except msgspec.DecodeError as e:
            raise UnknownEventError(str(e)) from e

    encode = staticmethod(encode)
