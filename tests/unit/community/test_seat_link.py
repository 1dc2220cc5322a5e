"""An expert's invitation link in a browser and after accepting: the page it opens, the room's
link it gives a seated expert, and nothing more to anyone else."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest
from litestar import Litestar
from litestar.datastructures import State
from litestar.di import Provide
from litestar.testing import TestClient

from services.community.api import InvitationLinkController, SeatLinkController
from services.community.application import CommunityService
from services.community.invitations import AnswerError, CommunityNotFoundError
from services.community.view import Community, Invitation, Seat
from shared.links import invitation_token, read_invitation_token
from shared.problems import problem_handlers

KEY = b"unit-test-secret-key-0123456789abcdef"
NOW = datetime.now(UTC)
INCIDENT = uuid4()


class Communities(CommunityService):
    """A fake of the one call these routes make of CommunityService: the community as it stands."""

    def __init__(self, community: Community) -> None:  # no log, no writer: nothing is decided here
        self.community = community

    async def get(self, incident_id: UUID) -> Community | None:
        return self.community if incident_id == self.community.incident_id else None


def community(**statuses: str) -> Community:
    invitations = {
        expert: Invitation(expert_id=expert, seat_field="fire", expires_at=NOW + timedelta(minutes=5), status=status)  # type: ignore[arg-type]
        for expert, status in statuses.items()
    }
    return Community(
        id=uuid4(),
        incident_id=INCIDENT,
        version=3,
        disaster_type="fire",
        severity="severe",
        reporters_join=True,
        seats=(Seat("fire", 2),),
        district_code="11680",
        invitations=invitations,
        reporters=frozenset({"p1"}),
    )


@pytest.fixture
def links() -> Iterator[tuple[TestClient[Litestar], Communities]]:
    found = Communities(community(E1="invited", E2="accepted", E3="declined"))
    app = Litestar(
        route_handlers=[InvitationLinkController, SeatLinkController],
        state=State({"secret_key": KEY}),
        dependencies={"community": Provide(lambda: found, sync_to_thread=False)},
        exception_handlers=problem_handlers({CommunityNotFoundError: 404, AnswerError: 409}),
    )
    with TestClient(app) as client:
        yield client, found


def link(expert: str) -> str:
    return invitation_token(KEY, INCIDENT, expert, expires_at=NOW + timedelta(minutes=5), now=NOW)


def test_a_link_opened_in_a_browser_goes_to_the_experts_page_with_the_token_in_the_fragment(
    links: tuple[TestClient[Litestar], Communities],
) -> None:
    client, _ = links
    token = link("E1")
    answer = client.get(f"/invitations/{token}", headers={"Accept": "text/html,*/*;q=0.8"}, follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/ui/expert/#t={token}"
    assert answer.headers["referrer-policy"] == "no-referrer"
    assert answer.headers["cache-control"] == "no-store"


def test_the_api_answers_the_invitation_with_the_place_and_who_else_is_in(
    links: tuple[TestClient[Litestar], Communities],
) -> None:
    client, _ = links
    answer = client.get(f"/invitations/{link('E1')}", headers={"Accept": "application/json"})
    assert answer.status_code == 200
    body = answer.json()
    assert (body["type_ko"], body["type_en"], body["district_code"], body["reporters"]) == ("화재", "Fire", "11680", 1)
    assert [(m["expert_id"], m["status"]) for m in body["members"]] == [("E2", "accepted")]  # not E1, not who declined


def test_a_seated_expert_gets_a_fresh_link_to_the_room_and_one_not_seated_gets_none(
    links: tuple[TestClient[Litestar], Communities],
) -> None:
    client, _ = links
    seat = client.post(f"/invitations/{link('E2')}/seat")
    assert seat.status_code == 201
    assert read_invitation_token(KEY, seat.json()["token"]) == (INCIDENT, "E2")
    assert datetime.fromisoformat(seat.json()["expires_at"]) > NOW + timedelta(hours=11)

    assert client.post(f"/invitations/{link('E1')}/seat").status_code == 409  # has not answered yet
    assert client.post(f"/invitations/{link('E3')}/seat").status_code == 403  # declined: out of the room
    assert client.post("/invitations/forged.token/seat").status_code == 401
    assert client.get(f"/invitations/{link('E3')}/room/messages").status_code == 403
