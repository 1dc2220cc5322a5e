"""The event contract: what every service can rely on when it reads another's events."""

from __future__ import annotations

import gc
import json
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import msgspec
import pytest

from shared.eventlog.application import ServiceApplication
from shared.eventlog.mapper import EventMapper
from shared.events import CODEC, Event, EventCodec, UnknownEventError, encode, event_types, published_event_types
from shared.events.lock import breaking_changes, describe, read_lock, unlocked_additions

PUBLISHED = sorted(published_event_types().items())


def _sample(info: msgspec.inspect.Type) -> Any:  # noqa: PLR0911 -- a return per kind of type
    """A plausible value of a field's type, for events whose fields have no default."""
    samples: dict[type, Any] = {
        msgspec.inspect.StrType: "예시",
        msgspec.inspect.IntType: 7,
        msgspec.inspect.FloatType: 1.5,
        msgspec.inspect.BoolType: True,
        msgspec.inspect.UUIDType: uuid4(),
        msgspec.inspect.DateTimeType: datetime(2026, 11, 25, 9, 30, tzinfo=UTC),
    }
    if type(info) in samples:
        return samples[type(info)]
    if isinstance(info, msgspec.inspect.UnionType):
        return _sample(next(t for t in info.types if not isinstance(t, msgspec.inspect.NoneType)))
    if isinstance(info, msgspec.inspect.ListType | msgspec.inspect.VarTupleType):
        return [_sample(info.item_type)]
    if isinstance(info, msgspec.inspect.DictType):
        return {"key": _sample(info.value_type)}
    if isinstance(info, msgspec.inspect.AnyType):
        return {"any": ["json", 1]}
    if isinstance(info, msgspec.inspect.FrozenSetType | msgspec.inspect.SetType):
        return {_sample(info.item_type)}
    if isinstance(info, msgspec.inspect.LiteralType):
        return info.values[0]
    if isinstance(info, msgspec.inspect.EnumType):
        return next(iter(info.cls))
    if isinstance(info, msgspec.inspect.StructType):
        return info.cls(**{f.name: _sample(f.type) for f in info.fields if f.required})
    raise AssertionError(f"no sample for {info}")


def sample_event(cls: type[Event]) -> Event:
    info = msgspec.inspect.type_info(cls)
    assert isinstance(info, msgspec.inspect.StructType)
    values = {f.name: _sample(f.type) for f in info.fields}
    return cls(**values)


@pytest.mark.parametrize(("tag", "cls"), PUBLISHED, ids=[t for t, _ in PUBLISHED])
def test_every_published_event_round_trips_through_the_wire(tag: str, cls: type[Event]) -> None:
    event = sample_event(cls)
    data = encode(event)
    assert json.loads(data)["type"] == tag
    assert CODEC.decode(data) == event


@pytest.mark.parametrize(("tag", "cls"), PUBLISHED, ids=[t for t, _ in PUBLISHED])
def test_every_published_event_has_a_subject_under_its_producing_service(tag: str, cls: type[Event]) -> None:
    event = msgspec.structs.replace(sample_event(cls), service="intake")
    assert event.subject() == f"jikimi.intake.{tag.split('.')[1]}"


def test_two_event_types_cannot_share_a_tag() -> None:
    class First(Event, frozen=True, tag="test.same_tag"):
        pass

    class Second(Event, frozen=True, tag="test.same_tag"):
        pass

    with pytest.raises(TypeError, match=r"test\.same_tag"):
        event_types()
    del First, Second
    gc.collect()
    event_types()  # the registry is whole again once they are gone


def test_a_malformed_tag_is_refused() -> None:
    class Shouting(Event, frozen=True, tag="Intake.IncidentOpened"):
        pass

    with pytest.raises(TypeError, match="must look like"):
        event_types()
    del Shouting
    gc.collect()


def test_a_reader_ignores_fields_it_does_not_know() -> None:
    event = sample_event(published_event_types()["system.probe_sent"])
    newer = json.loads(encode(event))
    newer["added_by_a_newer_producer"] = {"nested": [1, 2, 3]}
    assert CODEC.decode(json.dumps(newer).encode()) == event


def test_an_unknown_event_type_is_an_unknown_event_error() -> None:
    with pytest.raises(UnknownEventError):
        CODEC.decode(b'{"type": "intake.from_the_future", "originator_id": "x"}')


def test_the_published_contract_matches_its_lock() -> None:
    current = describe(published_event_types())
    locked = read_lock()
    assert breaking_changes(locked, current) == []
    assert unlocked_additions(locked, current) == [], "run: python -m shared.events.lock --update"


def test_removing_a_published_field_or_changing_its_type_breaks_the_lock() -> None:
    locked = read_lock()
    current = json.loads(json.dumps(locked))
    del current["system.probe_sent"]["label"]
    current["system.probe_echoed"]["probe_position"] = current["system.probe_echoed"]["echoed_by"]
    del current["system.probe_echoed"]["occurred_at"]
    problems = breaking_changes(locked, current)
    assert "system.probe_sent.label: published field removed" in problems
    assert any(p.startswith("system.probe_echoed.probe_position: type changed") for p in problems)
    assert "system.probe_echoed.occurred_at: published field removed" in problems
    assert breaking_changes(locked, {}) == [f"{tag}: published event type removed" for tag in locked]


def test_a_datetime_turned_string_is_a_type_change() -> None:
    class Before(Event, frozen=True, tag="test.when_v1"):
        when: datetime | None = None

    class After(Event, frozen=True, tag="test.when_v2"):
        when: str | None = None

    before = describe({"test.when": Before})
    after = describe({"test.when": After})
    assert breaking_changes(before, after) == [
        f"test.when.when: type changed from {before['test.when']['when']} to {after['test.when']['when']}"
    ]
    del Before, After
    gc.collect()


# An event whose schema changed: version 1 said "casualties" in one number; version 2 splits it.
class CasualtiesCounted(Event, frozen=True, tag="test.casualties_counted.v2"):
    injured: int = 0
    dead: int = 0
    unknown: int = 0


class CasualtiesCountedV1(Event, frozen=True, tag="test.casualties_counted"):
    casualties: int = 0

    def upcast(self) -> CasualtiesCounted:
        envelope = {f: getattr(self, f) for f in Event.__struct_fields__}
        return CasualtiesCounted(**envelope, unknown=self.casualties)


TEST_CODEC = EventCodec([CasualtiesCounted, CasualtiesCountedV1])


def test_an_older_version_is_upcast_on_read() -> None:
    old = CasualtiesCountedV1(originator_id=uuid4(), originator_version=3, casualties=4, service="intake", position=9)
    read = TEST_CODEC.decode(encode(old))
    assert isinstance(read, CasualtiesCounted)
    assert (read.unknown, read.injured, read.dead) == (4, 0, 0)
    assert (read.id, read.originator_version, read.service, read.position) == (old.id, 3, "intake", 9)
    assert CasualtiesCounted.subject is CasualtiesCountedV1.subject
    assert msgspec.structs.replace(read, service="x").subject() == "jikimi.x.casualties_counted"
    assert (CasualtiesCountedV1.schema_version(), CasualtiesCounted.schema_version()) == (1, 2)


def test_events_stored_by_an_older_version_are_upcast_when_the_log_is_read() -> None:
    class Ledger(ServiceApplication):
        name = "ledger"

        def construct_mapper(self) -> EventMapper:
            return EventMapper(TEST_CODEC)

    app = Ledger()
    stream: UUID = uuid4()
    app.record(CasualtiesCountedV1(originator_id=stream, originator_version=1, casualties=2))
    app.record(CasualtiesCounted(originator_id=stream, originator_version=2, injured=5))
    assert [(type(e).__name__, e.unknown, e.injured) for e in app.get_stream(stream)] == [  # type: ignore[attr-defined]
        ("CasualtiesCounted", 2, 0),
        ("CasualtiesCounted", 0, 5),
    ]


class _Inner(msgspec.Struct, frozen=True):
    a: int
    b: str = ""


class _InnerWithMore(msgspec.Struct, frozen=True):
    a: int
    b: str = ""
    c: list[int] = msgspec.field(default_factory=list)


class _InnerRetyped(msgspec.Struct, frozen=True):
    a: str
    b: str = ""


class _InnerRequiringMore(msgspec.Struct, frozen=True, kw_only=True):
    a: int
    b: str = ""
    c: int


def _nested(inner: type) -> dict[str, Any]:
    holder = msgspec.defstruct(
        "Holder",
        [("items", list[inner], msgspec.field(default_factory=list))],  # type: ignore[valid-type]
        bases=(Event,),
        tag="test.holder",
        frozen=True,
        kw_only=True,
    )
    described = describe({"test.holder": holder})
    del holder
    gc.collect()
    return described


def test_an_optional_field_added_inside_a_nested_struct_is_not_a_break_but_must_be_locked() -> None:
    before, after = _nested(_Inner), _nested(_InnerWithMore)
    assert breaking_changes(before, after) == []
    assert unlocked_additions(before, after) == ["test.holder.items"]


def test_a_retyped_or_newly_required_field_inside_a_nested_struct_is_a_break() -> None:
    before = _nested(_Inner)
    assert breaking_changes(before, _nested(_InnerRetyped))
    assert breaking_changes(before, _nested(_InnerRequiringMore))
    assert breaking_changes(_nested(_InnerWithMore), before)  # a nested field removed


def test_a_tags_family_leaves_out_its_version_so_filters_match_old_and_new_events() -> None:
    from shared.events import family_of
    from shared.events.intake import IncidentOpened

    assert family_of("intake.incident_opened.v2") == family_of("intake.incident_opened") == IncidentOpened.family()
    assert IncidentOpened.subject_of() == "jikimi.intake.incident_opened"
