"""What-if: an incident's recorded inputs replayed under another seat policy, in memory.

The recorded logs are made by community's own code at set times (the incident opened at AT, the
pool registered the day before, experts answering minutes later), as the service would have
recorded them; the what-if then replays them under a policy file from tests/data.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from uuid import UUID

import msgspec
import pytest

from jikimi.whatif import (
    IncidentNotFoundError,
    PolicyError,
    SeatComparison,
    SeatRun,
    WhatIf,
    compare,
    policy_from_text,
)
from jikimi.whatif.text import render_text
from services.community.application import CommunityApplication
from services.community.invitations import answer, expire_due
from services.community.pool import retire, seed
from services.community.reactions import Reactions
from services.community.view import CommunityView, community_id
from shared.eventlog.application import ServiceApplication
from shared.events import Event
from shared.events.common import Actor
from shared.events.community import CommunityAssembled
from shared.events.intake import IncidentClosed
from tests.unit.community.test_reactions import AT, DEPARTMENTS, EXPERTS, POLICY, PRIVACY, opened

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"
BUNDLED = str(ROOT / "services" / "community" / "data" / "seat-policy.toml")  # the policy the service runs
IN_MEMORY = {"PERSISTENCE_MODULE": "eventsourcing.popo"}


class IntakeLog(ServiceApplication):
    name = "intake"


def store(app: ServiceApplication, events: Sequence[Event], at: datetime) -> None:
    """Write ``events`` as recorded at ``at`` (``record()`` would stamp the wall clock)."""
    stamped = [msgspec.structs.replace(e, recorded_at=at, service=app.service) for e in events]
    app.recorder.insert_events([app.mapper.to_stored_event(e) for e in stamped])


class Deployment:
    """Intake's and community's logs in memory, and community's decisions made at given times."""

    def __init__(self) -> None:
        self.intake = IntakeLog(env=IN_MEMORY)
        self.community = CommunityApplication(env=IN_MEMORY)
        self.view = CommunityView(self.community.recorder)
        pool = seed(EXPERTS, PRIVACY.seal_address, source="experts.json")(self.view, AT - timedelta(days=1))
        store(self.community, pool.events, AT - timedelta(days=1))
        self.view.catch_up()
        self.reactions = Reactions(self.view, DEPARTMENTS, POLICY)

    def intake_event(self, event: Event, at: datetime) -> None:
        """Intake records ``event`` at ``at``; community reacts a moment later."""
        store(self.intake, [event], at)
        self.decide(self.reactions.handle(msgspec.structs.replace(event, recorded_at=at)), at)

    def decide(self, events: Sequence[Event], at: datetime) -> list[Event]:
        store(self.community, events, at + timedelta(milliseconds=200))
        self.view.catch_up()
        return list(events)

    def answer(self, incident: UUID, expert_id: str, *, accept: bool, at: datetime, reason: str = "") -> list[Event]:
        command = answer(incident, expert_id, accept=accept, by=f"expert:{expert_id}", reason=reason)
        return self.decide(command(self.view, at).events, at)

    def expire(self, at: datetime) -> list[Event]:
        return self.decide(expire_due()(self.view, at).events, at)

    def invited(self, incident: UUID) -> list[str]:
        community = self.view.communities[community_id(incident)]
        return list(community.invitations)

    def row_counts(self) -> tuple[int, int]:
        return tuple(  # type: ignore[return-value]
            len(app.recorder.select_notifications(0, 1_000_000)) for app in (self.intake, self.community)
        )


def closed(incident: UUID, version: int) -> IncidentClosed:
    return IncidentClosed(
        originator_id=incident,
        originator_version=version,
        incident_id=incident,
        outcome="extinguished",
        by=Actor("operator", "alice"),
    )


def policy(name: str) -> str:
    return (DATA / name).read_text()


def a_fire_where_the_first_expert_accepts(deployment: Deployment) -> tuple[UUID, str]:
    """A moderate fire in Mapo: one fire seat; the first invited expert accepts after 95 s; closed at 40 min."""
    incident = opened(kind="fire", severity="moderate")
    deployment.intake_event(incident, AT)
    [first] = deployment.invited(incident.originator_id)
    deployment.answer(incident.originator_id, first, accept=True, at=AT + timedelta(seconds=95))
    deployment.intake_event(closed(incident.originator_id, 2), AT + timedelta(minutes=40))
    return incident.originator_id, first


def whatif_of(deployment: Deployment, incident: UUID, policy_file: str, **options: object) -> WhatIf:
    tried = policy_from_text(policy(policy_file))
    return compare(deployment.intake, deployment.community, incident, tried, **options)  # type: ignore[arg-type]


def seat(result: WhatIf, field: str) -> SeatComparison:
    return next(s for s in result.seats if s.field == field)


def invited(run: SeatRun | None) -> list[tuple[str, float, str, float | None]]:
    assert run is not None
    return [(i.expert_id, i.invited_after_s, i.outcome, i.outcome_after_s) for i in run.invited]


def ranked(deployment: Deployment, incident: UUID, field: str) -> list[str]:
    """The recorded ranking for ``field`` (those invited and the next few)."""
    [assembled] = [
        e for e in deployment.community.get_stream(community_id(incident)) if isinstance(e, CommunityAssembled)
    ]
    return [c.expert_id for c in next(s for s in assembled.seats if s.field == field).candidates]


def test_the_recorded_policy_replayed_gives_the_recorded_run() -> None:
    deployment = Deployment()
    incident = opened(kind="fire", severity="moderate")
    deployment.intake_event(incident, AT)
    [first] = deployment.invited(incident.originator_id)
    deployment.answer(incident.originator_id, first, accept=False, at=AT + timedelta(seconds=60), reason="off duty")
    second = deployment.invited(incident.originator_id)[1]
    deployment.answer(incident.originator_id, second, accept=True, at=AT + timedelta(seconds=180))
    deployment.intake_event(closed(incident.originator_id, 2), AT + timedelta(minutes=40))

    result = whatif_of(deployment, incident.originator_id, BUNDLED)

    fire = seat(result, "fire")
    assert (
        invited(fire.whatif)
        == invited(fire.recorded)
        == [
            (first, 0.0, "declined", 60.0),
            (second, 60.0, "accepted", 180.0),
        ]
    )
    assert result.filled_after_s_recorded == result.filled_after_s_whatif == 180.0
    assert result.policy_recorded == [result.policy_whatif]
    assert result.asked_only_whatif == result.asked_only_recorded == []
    assert result.departments_whatif == result.departments_recorded


def test_needing_two_fire_experts_asks_the_runner_up_who_has_no_recorded_answer() -> None:
    deployment = Deployment()
    incident, first = a_fire_where_the_first_expert_accepts(deployment)
    runner_up = ranked(deployment, incident, "fire")[1]

    result = whatif_of(deployment, incident, "whatif-two-fire-experts.toml")

    fire = seat(result, "fire")
    assert fire.recorded is not None and fire.whatif is not None
    assert (fire.recorded.count, fire.whatif.count) == (1, 2)
    kept, added = fire.whatif.invited[:2]
    assert (kept.expert_id, kept.outcome, kept.outcome_after_s, kept.answer) == (first, "accepted", 95.0, "as_recorded")
    assert (added.expert_id, added.invited_after_s, added.answer) == (runner_up, 0.0, "assumed")
    assert added.note.startswith("would have been asked; no recorded answer")
    # Nobody assumed to answer: each newcomer's invitation lapses after 15 min and the next is asked.
    assert (added.outcome, added.outcome_after_s) == ("timed_out", 900.0)
    assert fire.whatif.invited[2].invited_after_s == 900.0
    assert result.asked_in_both == [first]
    assert runner_up in result.asked_only_whatif
    assert (result.filled_after_s_recorded, result.filled_after_s_whatif) == (95.0, None)
    assert result.policy_recorded == ["2026-11-25.1"]
    assert result.policy_whatif == "test.two-fire-experts"
    assert "none assumed" in result.assumption


def test_assuming_an_accept_fills_the_second_seat_after_the_given_or_the_median_delay() -> None:
    deployment = Deployment()
    incident, _ = a_fire_where_the_first_expert_accepts(deployment)

    given = whatif_of(deployment, incident, "whatif-two-fire-experts.toml", assume="accept", assume_after_s=30.0)
    median = whatif_of(deployment, incident, "whatif-two-fire-experts.toml", assume="accept")

    fire = seat(given, "fire").whatif
    assert fire is not None
    assert [(i.outcome, i.outcome_after_s, i.answer) for i in fire.invited] == [
        ("accepted", 95.0, "as_recorded"),
        ("accepted", 30.0, "assumed"),
    ]
    assert given.filled_after_s_whatif == 95.0
    assert "assumed to accept 30 s after their invitation (as given)" in given.assumption
    assert given.assume_after_s == 30.0
    assert median.assume_after_s == 95.0  # the one recorded answer
    assert "the median of this incident's recorded answers" in median.assumption


def test_a_recorded_decline_is_carried_over_at_the_same_delay_after_the_invitation() -> None:
    deployment = Deployment()
    incident = opened(kind="fire", severity="moderate")
    deployment.intake_event(incident, AT)
    [first] = deployment.invited(incident.originator_id)
    deployment.answer(incident.originator_id, first, accept=False, at=AT + timedelta(seconds=60), reason="off duty")
    second = deployment.invited(incident.originator_id)[1]  # invited at 60 s, answers 120 s later
    deployment.answer(incident.originator_id, second, accept=True, at=AT + timedelta(seconds=180))

    result = whatif_of(deployment, incident.originator_id, "whatif-two-fire-experts.toml")

    fire = seat(result, "fire").whatif
    assert fire is not None
    [(a, _, a_outcome, a_at), (b, b_invited, b_outcome, b_at), (_, c_invited, _, _)] = invited(fire)[:3]
    assert (a, a_outcome, a_at) == (first, "declined", 60.0)
    # Asked at once under this policy, the second expert accepts 120 s after their invitation, as they did.
    assert (b, b_invited, b_outcome, b_at) == (second, 0.0, "accepted", 120.0)
    assert c_invited == 60.0  # the decline asks the next candidate, who has no recorded answer
    assert fire.invited[2].answer == "assumed"
    assert result.closed_after_s is None
    assert any("still open" in note for note in result.notes)


def test_an_answer_later_than_the_policys_deadline_comes_too_late_and_a_new_seat_is_asked() -> None:
    deployment = Deployment()
    incident, first = a_fire_where_the_first_expert_accepts(deployment)

    result = whatif_of(deployment, incident, "whatif-fire-within-a-minute.toml")

    fire = seat(result, "fire").whatif
    assert fire is not None
    lapsed = fire.invited[0]
    assert (lapsed.expert_id, lapsed.outcome, lapsed.outcome_after_s) == (first, "timed_out", 60.0)
    assert lapsed.answer == "lapsed_first"
    assert "comes after this policy's deadline" in lapsed.note
    assert fire.invited[1].invited_after_s == 60.0
    structural = seat(result, "structural")
    assert structural.recorded is None
    assert structural.whatif is not None and structural.whatif.count == 1
    assert structural.whatif.invited[0].answer == "assumed"


def test_experts_busy_with_other_incidents_are_as_busy_in_the_what_if() -> None:
    deployment = Deployment()
    for n in range(12):
        deployment.intake_event(opened(kind="subway_accident", severity="moderate"), AT - timedelta(minutes=12 - n))
    incident = opened(kind="subway_accident", severity="moderate")
    deployment.intake_event(incident, AT)

    result = whatif_of(deployment, incident.originator_id, BUNDLED)

    subway = seat(result, "subway_rail")
    assert subway.recorded is not None and subway.whatif is not None
    assert subway.recorded.unfillable, "the pool's subway experts were all busy"
    assert "at the maximum" in subway.whatif.unfillable
    assert subway.whatif.invited == []


def test_an_expert_retired_during_the_incident_is_released_in_the_what_if_too() -> None:
    deployment = Deployment()
    opening = opened(kind="fire", severity="moderate")
    incident = opening.originator_id
    deployment.intake_event(opening, AT)
    [first] = deployment.invited(incident)
    deployment.answer(incident, first, accept=True, at=AT + timedelta(seconds=95))
    five_minutes = AT + timedelta(minutes=5)
    retired = retire(first, reason="moved away", by="admin:kim")(deployment.view, five_minutes)
    deployment.decide(retired.events, five_minutes)

    result = whatif_of(deployment, incident, "whatif-two-fire-experts.toml")

    for run in (seat(result, "fire").recorded, seat(result, "fire").whatif):
        assert run is not None
        kept = run.invited[0]
        assert (kept.expert_id, kept.released_after_s) == (first, 300.0)
        assert "retired from the pool: moved away" in kept.released_reason
        assert any(i.invited_after_s == 300.0 for i in run.invited[1:])  # the next candidate, at once


def test_a_policy_the_service_would_refuse_is_refused_naming_the_problem() -> None:
    with pytest.raises(PolicyError, match=r"seats\.field 'firefighting' is not a field of expertise"):
        policy_from_text(policy("whatif-unknown-field.toml"))
    with pytest.raises(PolicyError, match=r"seat policy: .*version"):
        policy_from_text("[default]\nseats = []\ndepartments = []\n")
    with pytest.raises(PolicyError, match="seat policy: "):
        policy_from_text("version = ")


def test_an_unknown_incident_is_refused() -> None:
    deployment = Deployment()
    with pytest.raises(IncidentNotFoundError, match="no incident"):
        whatif_of(deployment, opened().originator_id, "whatif-two-fire-experts.toml")


def test_nothing_is_written_to_the_recorded_logs_and_the_sandbox_stays_in_memory(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    deployment = Deployment()
    incident, _ = a_fire_where_the_first_expert_accepts(deployment)
    before = deployment.row_counts()
    # A process configured for PostgreSQL (nothing listens here): the sandbox must not try it.
    monkeypatch.setenv("PERSISTENCE_MODULE", "eventsourcing.postgres")
    monkeypatch.setenv("POSTGRES_HOST", "192.0.2.1")

    result = whatif_of(deployment, incident, "whatif-two-fire-experts.toml", assume="decline")

    assert deployment.row_counts() == before
    assert seat(result, "fire").whatif is not None


def test_the_result_reads_as_text_and_round_trips_as_json() -> None:
    deployment = Deployment()
    incident, first = a_fire_where_the_first_expert_accepts(deployment)
    result = whatif_of(deployment, incident, "whatif-two-fire-experts.toml")

    text = render_text(result)
    assert "Policy: recorded 2026-11-25.1 | what-if test.two-fire-experts" in text
    assert "Seat fire: recorded 1 expert within 15 min | what-if 2 experts within 15 min" in text
    assert f"{first}  invited +0s, accepted +1m35s  invited +0s, accepted +1m35s (as recorded)" in text
    assert "would have been asked; no recorded answer; none assumed" in text
    assert "never (1 of 2 accepted)" in text
    assert "Seats filled after 95 s (1m35s) recorded vs never what-if." in text
    assert msgspec.json.decode(msgspec.json.encode(result), type=WhatIf) == result
