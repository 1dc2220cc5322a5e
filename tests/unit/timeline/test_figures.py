"""Figures of the fire's story: how fast it came together, how fast messages went, who never saw them."""

from __future__ import annotations

from uuid import uuid4

import msgspec

from services.timeline.figures import ChannelLatency, IncidentFigures, InvitationOutcomes, figures_of
from shared.events.common import Actor
from shared.events.intake import IncidentOpened
from tests.unit.timeline.test_state import Story, at, cut


def whole(story: Story) -> IncidentFigures:
    return figures_of(cut(story.events, at(120)))


def test_the_milestones_run_from_the_first_report_to_every_seat_filled() -> None:
    figures = whole(Story())

    m = figures.milestones
    assert (m.first_report_at, m.opened_at, m.first_accepted_at, m.seats_filled_at) == (at(0), at(0, 2), at(1), at(20))
    assert (m.report_to_opened_s, m.opened_to_first_accepted_s) == (2.0, 58.0)
    assert (m.first_accepted_to_seats_filled_s, m.report_to_seats_filled_s) == (1140.0, 1200.0)


def test_seats_not_yet_filled_have_no_time_and_no_duration() -> None:
    story = Story()

    figures = figures_of(cut(story.events, at(5)))

    assert figures.milestones.first_accepted_at == at(1)
    assert figures.milestones.seats_filled_at is None
    assert figures.milestones.first_accepted_to_seats_filled_s is None


def test_delivery_latency_is_given_per_channel_and_kind_with_what_never_arrived() -> None:
    figures = whole(Story())

    by = {(f.channel, f.kind): f for f in figures.latency}
    assert by["telegram", "invitation"] == ChannelLatency(
        channel="telegram", kind="invitation", delivered=4, p50_s=3.5, max_s=10.0
    )
    assert (by["webhook", "briefing"].p50_s, by["email", "briefing"].p50_s) == (1.0, 5.0)
    assert by["live", "room_message"] == ChannelLatency(
        channel="live", kind="room_message", delivered=3, p50_s=1.0, max_s=1.0, not_delivered=2
    )
    assert by["kakao", "reporter_notice"] == ChannelLatency(
        channel="kakao", kind="reporter_notice", delivered=0, p50_s=None, max_s=None, not_delivered=1
    )


def test_who_never_acknowledged_the_room_message_and_the_briefing() -> None:
    story = Story()

    figures = whole(story)

    room = next(m for m in figures.messages if m.message_id == story.fan_out)
    assert (room.kind, room.sent_at, room.recipients, room.acknowledged) == ("room_message", at(10), 5, 2)
    assert room.never_acknowledged == ["citizen:p_reporterone", "department:DO-11380", "expert:EXP-020"]
    [briefing] = [m for m in figures.messages if m.kind == "briefing"]
    assert (briefing.recipients, briefing.never_acknowledged) == (2, ["department:DO-11380"])
    assert figures.never_acknowledged["invitation"] == ["expert:EXP-020"]
    assert figures.never_acknowledged["briefing"] == ["department:DO-11380"]
    assert "expert:EXP-001" not in figures.never_acknowledged["room_message"]


def test_invitations_are_counted_by_how_they_ended_an_accepted_one_released_at_closing_still_accepted() -> None:
    figures = whole(Story())

    assert figures.invitations == InvitationOutcomes(invited=4, accepted=2, declined=1, timed_out=1)


def test_an_incident_an_operator_opened_before_any_report_has_no_report_milestone() -> None:
    incident = uuid4()
    opened = IncidentOpened(
        originator_id=incident,
        originator_version=1,
        incident_id=incident,
        occurred_at=at(0),
        recorded_at=at(0),
        disaster_type="flood",
        severity="moderate",
        title="침수",
        opened_by=Actor("operator", "alice"),
    )

    figures = figures_of([opened])

    assert figures.incident_id == incident
    assert figures.milestones.opened_at == at(0)
    assert figures.milestones.report_to_opened_s is None and figures.milestones.first_report_at is None


def test_no_events_give_empty_figures_that_read_as_json() -> None:
    figures = figures_of([])

    assert figures == IncidentFigures()
    assert msgspec.json.decode(msgspec.json.encode(figures), type=IncidentFigures) == figures
