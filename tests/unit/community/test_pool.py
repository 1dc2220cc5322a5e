"""The expert pool lives in the log: seeded once, changed by admins, availability as events,
contact addresses sealed, and every change followed by the seats it touches."""

from __future__ import annotations

from datetime import timedelta

import msgspec
import pytest

from services.community.invitations import answer
from services.community.pool import (
    ExpertNotFoundError,
    PoolConflictError,
    change,
    clear_availability,
    register,
    retire,
    seed,
    set_availability,
)
from services.community.registry import ContactChannel
from services.community.view import CommunityView, community_id
from shared.events.community import (
    ExpertAvailabilityChanged,
    ExpertChanged,
    ExpertRegistered,
    InvitationAccepted,
    MemberInvited,
    MemberReleased,
)
from tests.unit.community.test_invitations import assembled_fire, run
from tests.unit.community.test_reactions import AT, EXPERTS, PRIVACY, logged, setup


def test_the_seed_registers_the_bundled_pool_once_with_addresses_sealed() -> None:
    app, view, _ = setup()
    view.catch_up()
    assert len(view.experts) == 75
    assert sum(e.active for e in view.experts.values()) == 73
    assert seed(EXPERTS, PRIVACY.seal_address, source="experts.json")(view, AT).events == []  # a restart adds nothing
    stored = b"".join(n.state for n in app.recorder.select_notifications(0, 10_000))
    for expert in EXPERTS:
        for contact in expert.channels:
            assert contact.address.encode() not in stored, f"{expert.id}'s {contact.channel} address is in the clear"
    first = view.experts[EXPERTS[0].id]
    assert [PRIVACY.unseal(c.address) for c in first.channels] == [
        f"{c.channel}:{c.address}" for c in EXPERTS[0].channels
    ]


async def test_an_invitation_carries_the_experts_sealed_contacts_in_their_order() -> None:
    _, _, [invited] = await assembled_fire()
    expert = next(e for e in EXPERTS if e.id == invited.expert_id)
    assert [c.channel for c in invited.contacts] == [c.channel for c in expert.channels]
    assert [PRIVACY.unseal(c.address_sealed) for c in invited.contacts] == [
        f"{c.channel}:{c.address}" for c in expert.channels
    ]
    assert invited.language == expert.languages[0]


def test_an_admin_adds_an_expert_once() -> None:
    _, view, _ = setup()
    view.catch_up()
    newcomer = EXPERTS[0].__class__(**{**_as_dict(EXPERTS[0]), "id": "EXP-900", "name": "(가상) 새전문가"})
    [registered] = register(newcomer, PRIVACY.seal_address, by="admin:root")(view, AT).events
    assert isinstance(registered, ExpertRegistered)
    assert registered.originator_version == 1
    view.apply(registered)
    assert view.experts["EXP-900"].name == "(가상) 새전문가"
    with pytest.raises(PoolConflictError, match="already in the pool"):
        register(newcomer, PRIVACY.seal_address, by="admin:root")(view, AT)


async def test_an_expert_marked_unavailable_is_released_and_replaced_then_skipped_with_the_reason() -> None:
    service, incident, [invited] = await assembled_fire()
    until = AT + timedelta(hours=3)
    events = run(
        service,
        set_availability(invited.expert_id, available=False, until=until, reason="병가", by="expert:x"),
        1,
    )
    changed, released, nxt = events
    assert isinstance(changed, ExpertAvailabilityChanged)
    assert isinstance(released, MemberReleased)
    assert released.expert_id == invited.expert_id
    assert "unavailable: 병가" in released.reason
    assert isinstance(nxt, MemberInvited)
    assert nxt.expert_id != invited.expert_id
    expert = service.view.experts[invited.expert_id]
    assert "unavailable until" in expert.unavailable_at(AT + timedelta(hours=1))
    assert "병가" in expert.unavailable_at(AT + timedelta(hours=1))
    assert expert.unavailable_at(until) == ""  # it lapses by itself
    community = service.view.communities[community_id(incident.originator_id)]
    assert not community.admits("expert", invited.expert_id)  # released: the room is closed to them


async def test_availability_in_the_past_or_for_an_unknown_expert_is_refused() -> None:
    service, _, [invited] = await assembled_fire()
    with pytest.raises(PoolConflictError, match="until"):
        run(
            service,
            set_availability(invited.expert_id, available=False, until=AT, reason="", by="admin:a"),
            1,
        )
    with pytest.raises(ExpertNotFoundError):
        run(service, set_availability("EXP-999", available=True, until=None, reason="", by="admin:a"), 1)


async def test_retiring_a_seated_expert_releases_them_and_asks_the_next_and_they_stay_retired() -> None:
    service, incident, [invited] = await assembled_fire()
    run(service, answer(incident.originator_id, invited.expert_id, accept=True, by="e", reason=""), 1)
    events = run(service, retire(invited.expert_id, reason="moved away", by="admin:root"), 2)
    kinds = [type(e).__name__ for e in events]
    assert kinds == ["ExpertRetired", "MemberReleased", "MemberInvited"]
    assert not service.view.experts[invited.expert_id].active
    with pytest.raises(PoolConflictError, match="retired"):
        run(service, retire(invited.expert_id, reason="", by="admin:root"), 3)


async def test_a_change_records_what_differs_and_a_dropped_field_gives_up_its_seat() -> None:
    service, incident, [invited] = await assembled_fire()
    before = service.view.experts[invited.expert_id]
    clear = [ContactChannel(c.channel, PRIVACY.unseal(c.address).partition(":")[2]) for c in before.channels]
    same = before.__class__(**{**_as_dict(before), "channels": clear})
    assert (
        run(service, change(same, PRIVACY.seal_address, PRIVACY.open_address, by="admin:root"), 1) == []
    )  # nothing differs
    others = [f for f in before.fields if f != "fire"] or ["ems"]
    narrower = before.__class__(
        **{**_as_dict(before), "channels": clear, "fields": others, "max_concurrent": before.max_concurrent + 1}
    )
    events = run(service, change(narrower, PRIVACY.seal_address, PRIVACY.open_address, by="admin:root"), 1)
    changed = events[0]
    assert isinstance(changed, ExpertChanged)
    assert set(changed.changed) == {"fields", "max_concurrent"}
    assert [type(e).__name__ for e in events[1:]] == ["MemberReleased", "MemberInvited"]
    community = service.view.communities[community_id(incident.originator_id)]
    assert community.invitations[invited.expert_id].status == "released"


async def test_the_pool_read_again_from_the_log_is_the_pool_that_decided() -> None:
    service, _, [invited] = await assembled_fire()
    run(service, set_availability(invited.expert_id, available=False, until=None, reason="x", by="admin:a"), 1)
    run(service, retire(EXPERTS[5].id, reason="", by="admin:a"), 2)
    again = CommunityView(service.app.recorder)
    again.catch_up()
    assert again.experts == service.view.experts
    assert again.load() == service.view.load()
    assert not any(isinstance(e, InvitationAccepted) for e in logged(service.app))


def _as_dict(expert: object) -> dict[str, object]:
    import msgspec

    return msgspec.structs.asdict(expert)  # type: ignore[arg-type]


async def test_clearing_availability_goes_back_to_the_schedule() -> None:
    service, _, [invited] = await assembled_fire()
    run(service, set_availability(invited.expert_id, available=True, until=None, reason="on call tonight", by="e"), 1)
    assert service.view.experts[invited.expert_id].on_call_at(AT + timedelta(days=3, hours=12))  # a Saturday night
    [cleared] = run(service, clear_availability(invited.expert_id, by="e"), 2)
    assert isinstance(cleared, ExpertAvailabilityChanged)
    expert = service.view.experts[invited.expert_id]
    schedule_only = msgspec.structs.replace(expert, availability=None)
    for hours in range(0, 24 * 7, 5):
        when = AT + timedelta(hours=hours, minutes=3)
        assert expert.on_call_at(when) == schedule_only.on_call_at(when)
    assert run(service, clear_availability(invited.expert_id, by="e"), 3) == []  # nothing left to clear
