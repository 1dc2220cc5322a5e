"""The public view: what intake's events make public, and what they take away."""

from __future__ import annotations

from datetime import timedelta

from services.broadcast.public import PublicView
from tests.unit.broadcast.test_public_events import AT, Story, ids, national


def fold(*events: object) -> PublicView:
    view = PublicView()
    for sequence, event in enumerate(events, start=1):
        view.apply(event, sequence)  # type: ignore[arg-type]
    return view


def test_an_incident_is_not_public_until_an_operator_makes_it_so() -> None:
    story = Story()
    view = fold(story.opened, story.escalated())

    assert view.public_incidents() == []


def test_an_incident_made_public_is_listed_with_its_headline_and_instruction_and_issues_an_alert() -> None:
    story = Story()
    view = fold(story.opened, story.made_public(headline="망원동 화재", instruction="우회하세요"))

    [incident] = view.public_incidents()
    assert (incident.headline, incident.instruction, incident.district_code) == ("망원동 화재", "우회하세요", "11440")
    assert [(m.number, m.msg_type) for m in incident.messages] == [(1, "Alert")]


def test_each_change_while_public_issues_an_update_and_closing_issues_a_cancel() -> None:
    story = Story()
    view = fold(
        story.opened,
        story.made_public(),
        story.escalated("severe"),
        story.reclassified("explosion", "extreme"),
        story.updated("2개 동 대피 완료", injured=2, dead=0),
    )
    [incident] = view.public_incidents()
    assert (incident.disaster_type, incident.severity) == ("explosion", "extreme")
    assert (incident.situation, incident.casualties_injured) == ("2개 동 대피 완료", 2)
    assert [m.msg_type for m in incident.messages] == ["Alert", "Update", "Update", "Update"]

    view.apply(story.closed(), 99)

    assert view.public_incidents() == []
    assert [m.msg_type for m in view.incidents[story.id].messages][-1] == "Cancel"


def test_situation_written_before_the_incident_was_public_is_not_published() -> None:
    story = Story()
    view = fold(story.opened, story.updated("신고자 김모씨 부상"), story.made_public())

    [incident] = view.public_incidents()
    assert incident.situation == ""


def test_an_incident_closed_before_anyone_made_it_public_is_forgotten() -> None:
    story = Story()
    view = fold(story.opened, story.closed())

    assert story.id not in view.incidents


def test_the_same_event_read_twice_changes_nothing() -> None:
    story = Story()
    public, escalated = story.made_public(), story.escalated()
    view = fold(story.opened, public, escalated, public, escalated, story.opened)

    [incident] = view.public_incidents()
    assert [m.msg_type for m in incident.messages] == ["Alert", "Update"]


def test_public_incidents_filter_by_district_and_type_newest_change_first() -> None:
    mapo_flood = Story("flood")
    gangnam_fire = Story("fire", district="11680", start=AT + timedelta(hours=1))
    mapo_fire = Story("fire", start=AT + timedelta(hours=2))
    view = fold(
        mapo_flood.opened,
        mapo_flood.made_public(),
        gangnam_fire.opened,
        gangnam_fire.made_public(),
        mapo_fire.opened,
        mapo_fire.made_public(),
    )

    assert ids(view.public_incidents(district="11440")) == [mapo_fire.id, mapo_flood.id]
    assert ids(view.public_incidents(disaster_type="fire")) == [mapo_fire.id, gangnam_fire.id]
    assert ids(view.public_incidents(district="11440", disaster_type="flood")) == [mapo_flood.id]


def test_an_actual_public_national_alert_is_active_until_it_expires() -> None:
    alert = national(expires=AT + timedelta(hours=1))
    view = fold(alert)

    assert view.active_alerts(AT) == [alert]
    assert view.active_alerts(AT + timedelta(hours=1)) == []


def test_tests_exercises_and_restricted_alerts_are_never_relayed() -> None:
    view = fold(national("T-1", status="Test"), national("E-1", status="Exercise"), national("R-1", scope="Restricted"))

    assert view.active_alerts(AT) == []


def test_an_update_replaces_the_alert_it_references_and_a_cancel_removes_it() -> None:
    first = national("KMA-1")
    update = national("KMA-2", msg_type="Update", references=[first], headline="호우경보 확대")
    view = fold(first, update)
    assert view.active_alerts(AT) == [update]

    view.apply(national("KMA-3", msg_type="Cancel", references=[update]), 3)

    assert view.active_alerts(AT) == []


def test_a_cancel_read_before_the_alert_it_cancels_still_cancels_it() -> None:
    first = national("KMA-1")
    view = fold(national("KMA-2", msg_type="Cancel", references=[first]), first)

    assert view.active_alerts(AT) == []
