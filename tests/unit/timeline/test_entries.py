"""Filing events under incidents: a report's events reach its incident's timeline even though
they name no incident, a moved report brings them along, who acted is read off each event, and
a projector resuming from its table files the rest as if it had never stopped."""

from __future__ import annotations

from uuid import UUID, uuid4

from services.timeline.entries import UNFILED, Entry, Filing
from shared.events import Event, encode
from shared.events.common import Actor
from shared.events.community import ExpertRetired, InvitationAccepted, MessagePosted
from shared.events.intake import IncidentOpened, ReportAmended, ReportLinked, ReportReceived, ReportUnlinked


class Log:
    """Events in one service's log order, each with its position."""

    def __init__(self) -> None:
        self.position = 0

    def file(self, filing: Filing, event: Event, service: str = "intake") -> list[Entry]:
        self.position += 1
        return filing.file(encode(event), service, self.position)


def received(report: UUID, text: str = "불이 났어요") -> ReportReceived:
    return ReportReceived(
        originator_id=report,
        originator_version=1,
        channel="telegram",
        sender="p_abc",
        channel_message_id="1",
        receipt="R-1",
        text=text,
    )


def linked(report: UUID, incident: UUID, version: int = 2) -> ReportLinked:
    return ReportLinked(
        originator_id=report,
        originator_version=version,
        incident_id=incident,
        report_id=report,
        reporter="p_abc",
        by=Actor("system", "intake"),
    )


def where(entries: list[Entry]) -> list[tuple[UUID, str]]:
    return [(e.incident_id, e.type) for e in entries]


def test_a_reports_events_wait_unfiled_then_join_the_incident_it_is_linked_to() -> None:
    filing, log = Filing(), Log()
    report, incident = uuid4(), uuid4()
    assert where(log.file(filing, received(report))) == [(UNFILED, "intake.report_received")]
    opened = IncidentOpened(
        originator_id=incident,
        originator_version=1,
        incident_id=incident,
        disaster_type="fire",
        severity="severe",
        title="불",
    )
    assert where(log.file(filing, opened)) == [(incident, "intake.incident_opened")]
    assert where(log.file(filing, linked(report, incident))) == [
        (incident, "intake.report_received"),  # what the citizen said comes along
        (incident, "intake.report_linked"),
    ]
    amended = ReportAmended(originator_id=report, originator_version=3, channel_message_id="2", text="연기가 많아요")
    assert where(log.file(filing, amended)) == [(incident, "intake.report_amended")]


def test_a_report_moved_to_another_incident_brings_what_its_citizen_said() -> None:
    filing, log = Filing(), Log()
    report, first, second = uuid4(), uuid4(), uuid4()
    log.file(filing, received(report))
    log.file(filing, linked(report, first))
    unlinked = ReportUnlinked(
        originator_id=report,
        originator_version=3,
        incident_id=first,
        report_id=report,
        reporter="p_abc",
        by=Actor("operator", "kim"),
    )
    assert where(log.file(filing, unlinked)) == [(first, "intake.report_unlinked")]
    moved = where(log.file(filing, linked(report, second, version=4)))
    assert (second, "intake.report_received") in moved
    assert moved[-1] == (second, "intake.report_linked")


def test_who_acted_is_the_operator_expert_author_or_citizen_the_event_names_else_the_service() -> None:
    filing, log = Filing(), Log()
    incident = uuid4()
    opened = IncidentOpened(
        originator_id=incident,
        originator_version=1,
        incident_id=incident,
        disaster_type="fire",
        severity="severe",
        title="불",
        opened_by=Actor("operator", "kim"),
        service="intake",
    )
    accepted = InvitationAccepted(
        originator_id=uuid4(),
        originator_version=3,
        incident_id=incident,
        expert_id="EXP-012",
        seat_field="fire",
        by="expert:EXP-012",
    )
    message = MessagePosted(
        originator_id=uuid4(), originator_version=1, incident_id=incident, author="department:FS-11440", text="도착"
    )
    quiet = MessagePosted(
        originator_id=uuid4(), originator_version=2, incident_id=incident, author="", text="", service="community"
    )
    actors = [log.file(filing, e, "community")[0].actor for e in (opened, accepted, message, quiet)]
    assert actors == ["operator:kim", "expert:EXP-012", "department:FS-11440", "system:community"]
    [report] = log.file(filing, received(uuid4()))
    assert report.actor == "citizen:p_abc"


def test_events_about_no_incident_are_on_no_timeline() -> None:
    retired = ExpertRetired(originator_id=uuid4(), originator_version=2, expert_id="EXP-001", by="admin:root")
    assert Filing().file(encode(retired), "community", 7) == []


def test_a_resumed_filing_links_a_waiting_report_as_the_first_would_have() -> None:
    first, log = Filing(), Log()
    report, incident = uuid4(), uuid4()
    stored = log.file(first, received(report))
    resumed = Filing()
    for entry in stored:
        resumed.remember(entry)
    assert where(log.file(resumed, linked(report, incident))) == [
        (incident, "intake.report_received"),
        (incident, "intake.report_linked"),
    ]


def test_a_rebuild_that_read_the_links_first_files_a_reports_events_under_its_incident_at_once() -> None:
    report, incident = uuid4(), uuid4()
    filing, log = Filing({report: {incident}}), Log()
    assert where(log.file(filing, received(report))) == [(incident, "intake.report_received")]
    assert where(log.file(filing, linked(report, incident))) == [(incident, "intake.report_linked")]  # nothing twice
    assert filing.linked == set()  # no UNFILED entry was made to forget


def test_a_report_linked_while_a_rebuild_ran_brings_its_recalled_events_to_its_incident() -> None:
    report, incident = uuid4(), uuid4()
    filing, log = Filing({}), Log()
    earlier = received(report)
    filing.recall(encode(earlier), "intake", 1)  # filed UNFILED by a worker, read again for the catch-up
    log.position = 1
    assert where(log.file(filing, linked(report, incident))) == [
        (incident, "intake.report_received"),
        (incident, "intake.report_linked"),
    ]
