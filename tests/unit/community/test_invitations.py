"""Seats fill through invitations: accepted, declined (next candidate), timed out, refused."""

from __future__ import annotations

from datetime import timedelta

import msgspec
import pytest

from services.community.application import CommunityService
from services.community.invitations import AnswerError, answer, expire_due
from services.community.view import community_id
from shared.events import Event
from shared.events.community import (
    InvitationAccepted,
    InvitationDeclined,
    InvitationTimedOut,
    MemberInvited,
    SeatUnfillable,
)
from tests.unit.community.test_reactions import AT, EXPERTS, PRIVACY, from_intake, logged, opened, setup


async def assembled_fire() -> tuple[CommunityService, object, list[MemberInvited]]:
    app, _, consumer = setup()
    incident = opened(kind="fire", severity="moderate")
    await consumer.process([from_intake(incident, 1)])  # type: ignore[list-item]
    service = CommunityService(app, PRIVACY)
    await service.start()
    invited = [e for e in logged(app) if isinstance(e, MemberInvited)]
    return service, incident, invited


def run(service: CommunityService, command: object, minutes: float) -> list[Event]:
    """Run one writer command as if ``minutes`` after the incident, and record what it decided."""
    service.view.catch_up()
    outcome = command(service.view, AT + timedelta(minutes=minutes))  # type: ignore[operator]
    service.app.record(*outcome.events)
    for event in outcome.events:
        service.view.apply(event)
    return list(outcome.events)


async def test_an_expert_accepts_and_takes_the_seat() -> None:
    service, incident, [invited] = await assembled_fire()
    [accepted] = run(
        service,
        answer(incident.originator_id, invited.expert_id, accept=True, by="expert:x", reason=""),
        2,
    )
    assert isinstance(accepted, InvitationAccepted)
    community = service.view.communities[community_id(incident.originator_id)]
    assert community.filled("fire") == 1


async def test_a_decline_invites_the_next_candidate_with_the_reason() -> None:
    service, incident, [first] = await assembled_fire()
    events = run(
        service,
        answer(incident.originator_id, first.expert_id, accept=False, by="expert:x", reason="off duty"),
        2,
    )
    declined, nxt = events
    assert isinstance(declined, InvitationDeclined)
    assert declined.reason == "off duty"
    assert isinstance(nxt, MemberInvited)
    assert nxt.expert_id != first.expert_id
    assert (nxt.seat_field, nxt.rank) == ("fire", 2)
    assert nxt.reason.startswith("next candidate:")
    assert nxt.expires_at == AT + timedelta(minutes=2 + 15)


async def test_an_invitation_answered_twice_lapsed_or_not_sent_is_refused() -> None:
    service, incident, [invited] = await assembled_fire()
    run(service, answer(incident.originator_id, invited.expert_id, accept=True, by="e", reason=""), 1)
    with pytest.raises(AnswerError, match="already accepted"):
        run(
            service,
            answer(incident.originator_id, invited.expert_id, accept=False, by="e", reason=""),
            2,
        )
    with pytest.raises(AnswerError, match="was not invited"):
        run(service, answer(incident.originator_id, "EXP-999", accept=True, by="e", reason=""), 2)


async def test_a_lapsed_invitation_cannot_be_accepted_and_times_out_to_the_next_candidate() -> None:
    service, incident, [invited] = await assembled_fire()
    with pytest.raises(AnswerError, match="lapsed"):
        run(
            service,
            answer(incident.originator_id, invited.expert_id, accept=True, by="e", reason=""),
            16,
        )
    events = run(service, expire_due(), 16)
    assert [type(e).__name__ for e in events] == ["InvitationTimedOut", "MemberInvited"]
    timed_out = events[0]
    assert isinstance(timed_out, InvitationTimedOut)
    assert timed_out.expired_at == invited.expires_at
    assert run(service, expire_due(), 16) == []  # nothing fires twice


async def test_a_restarted_service_fires_the_deadlines_that_fell_due_while_it_was_down() -> None:
    service, _, [invited] = await assembled_fire()
    restarted = CommunityService(service.app, PRIVACY)
    await restarted.start()  # a fresh view, read from the log
    events = run(restarted, expire_due(), 60)
    assert isinstance(events[0], InvitationTimedOut)
    assert events[0].expert_id == invited.expert_id


async def test_when_every_candidate_declined_the_seat_is_reported_unfillable() -> None:
    service, incident, [invited] = await assembled_fire()
    fire_experts = [e.id for e in EXPERTS if "fire" in e.fields and e.active]
    current, minute = invited.expert_id, 1.0
    unfillable: list[Event] = []
    for _ in range(len(fire_experts) + 1):
        events = run(service, answer(incident.originator_id, current, accept=False, by="e", reason="no"), minute)
        minute += 0.5
        following = [e for e in events if isinstance(e, MemberInvited)]
        unfillable = [e for e in events if isinstance(e, SeatUnfillable)]
        if unfillable:
            break
        current = following[0].expert_id
    assert unfillable
    assert "no fire expert is left" in msgspec.structs.asdict(unfillable[0])["reason"]
