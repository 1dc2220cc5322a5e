"""An incident opened in intake assembles its community in the community service: two real
processes, the shared stream between them."""

from __future__ import annotations

import time
from collections.abc import Iterator
from uuid import UUID, uuid4

import httpx
import pytest

from shared.eventlog.application import ServiceApplication
from shared.events import CODEC, Event
from shared.events.community import CommunityAssembled, MemberInvited, ReporterJoined
from shared.settings import DatabaseSettings, NatsSettings
from tests.integration.pipeline import service_app
from tests.integration.services import service_process


@pytest.fixture(scope="module")
def intake_with_community(database: DatabaseSettings, nats_settings: NatsSettings) -> Iterator[tuple[str, str]]:
    with (
        service_process("community", database, nats_settings.url) as community,
        service_process("intake", database, nats_settings.url) as intake,
    ):
        yield intake, community


def community_events(app: ServiceApplication, incident_id: UUID) -> list[Event]:
    events = [CODEC.decode(n.state) for n in app.recorder.select_notifications(0, 100_000)]
    return [e for e in events if e.incident_id == incident_id]


def test_a_fire_reported_in_mapo_gets_a_community_with_invited_experts_and_its_reporter(
    intake_with_community: tuple[str, str], database: DatabaseSettings
) -> None:
    community = service_app("community", database)
    with httpx.Client(base_url=intake_with_community[0], timeout=10) as client:
        report = client.post(
            "/reports",
            json={
                "text": "마포구 합정동 빌라에서 불이 났어요 연기가 많이 나요",
                "reporter": str(uuid4()),
                "location": {"lat": 37.5495, "lon": 126.9139},
            },
        ).json()
    incident_id, report_id = UUID(report["incident_id"]), UUID(report["report_id"])
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        events = community_events(community, incident_id)
        if any(isinstance(e, ReporterJoined) and e.report_id == report_id for e in events):
            break
        time.sleep(0.1)
    [assembled] = [e for e in events if isinstance(e, CommunityAssembled)]
    assert assembled.disaster_type == "fire"
    assert assembled.district_code == "11440"
    invited = [e for e in events if isinstance(e, MemberInvited)]
    assert invited
    assert all(i.seat_field == "fire" for i in invited)
    # The fire may be one another report already opened: its reporter joins all the same, once.
    assert [e.report_id for e in events if isinstance(e, ReporterJoined)].count(report_id) == 1


def report_and_wait_for_invitations(
    intake_url: str, community: ServiceApplication, text: str, at: tuple[float, float]
) -> tuple[UUID, list[MemberInvited]]:
    """Report ``text`` at ``at`` to intake; its incident and the invitations community recorded."""
    with httpx.Client(base_url=intake_url, timeout=10) as intake:
        report = intake.post(
            "/reports", json={"text": text, "reporter": str(uuid4()), "location": {"lat": at[0], "lon": at[1]}}
        ).json()
    incident_id = UUID(report["incident_id"])
    deadline = time.monotonic() + 20
    invited: list[MemberInvited] = []
    while time.monotonic() < deadline and not invited:
        invited = [e for e in community_events(community, incident_id) if isinstance(e, MemberInvited)]
        time.sleep(0.1)
    assert invited, "community invited nobody within 20 s"
    return incident_id, invited


def token(role: str, subject: str) -> dict[str, str]:
    from shared.auth import Role, issue_token
    from tests.integration.services import SECRET_KEY

    return {"Authorization": f"Bearer {issue_token(SECRET_KEY.encode(), subject, Role(role), ttl_s=600)}"}


def test_experts_answer_their_invitations_and_only_members_see_the_community(
    intake_with_community: tuple[str, str], database: DatabaseSettings
) -> None:
    intake_url, community_url = intake_with_community
    incident_id, invited = report_and_wait_for_invitations(
        intake_url,
        service_app("community", database),
        "노원구 상계동 아파트 엘리베이터에 사람이 갇혔어요",
        (37.6550, 127.0600),
    )
    first = invited[0].expert_id
    with httpx.Client(base_url=community_url, timeout=10) as client:
        path = f"/communities/{incident_id}"
        assert client.get(path).status_code == 401
        assert client.get(path, headers=token("expert", "EXP-999")).status_code == 403
        assert client.get(path, headers=token("expert", first)).status_code == 200
        assert client.post(f"{path}/invitations/{first}/accept", headers=token("expert", "EXP-999")).status_code == 403
        declined = client.post(
            f"{path}/invitations/{first}/decline", json={"reason": "on leave"}, headers=token("expert", first)
        )
        assert declined.status_code == 200
        members = {m["expert_id"]: m["status"] for m in declined.json()["members"]}
        assert members[first] == "declined"
        assert list(members.values()).count("invited") >= 1  # the next candidate
        again = client.post(f"{path}/invitations/{first}/accept", headers=token("expert", first))
        assert again.status_code == 409
        assert client.get(path, headers=token("expert", first)).status_code == 403  # access ends with the seat
        operator_view = client.get(path, headers=token("operator", "alice")).json()
        assert operator_view["seats"][0]["field"] == "ems"


def test_an_expert_accepts_from_the_phone_link_once_and_a_forged_link_is_refused(
    intake_with_community: tuple[str, str], database: DatabaseSettings
) -> None:
    intake_url, community_url = intake_with_community
    incident_id, invited = report_and_wait_for_invitations(
        intake_url, service_app("community", database), "강동구 천호동 건물 외벽이 무너졌어요", (37.5385, 127.1238)
    )
    expert = invited[0].expert_id
    with httpx.Client(base_url=community_url, timeout=10) as client:
        link = client.get(f"/communities/{incident_id}/invitations/{expert}/link", headers=token("operator", "alice"))
        assert link.status_code == 200, link.text
        path = link.json()["path"]
        opened = client.get(path)
        assert opened.status_code == 200
        assert (opened.json()["expert_id"], opened.json()["status"]) == (expert, "invited")
        assert client.post(f"{path}/accept").status_code == 200
        assert client.post(f"{path}/accept").status_code == 409  # single use
        forged = path[:-3] + ("aaa" if not path.endswith("aaa") else "bbb")
        assert client.get(forged).status_code == 401
        assert client.get(f"/communities/{incident_id}", headers=token("expert", expert)).json()["members"]


def test_the_room_is_for_its_members_operators_and_departments_only(
    intake_with_community: tuple[str, str], database: DatabaseSettings
) -> None:
    intake_url, community_url = intake_with_community
    incident_id, invited = report_and_wait_for_invitations(
        intake_url,
        service_app("community", database),
        "성북구 정릉동 주택에서 가스 냄새가 심하게 나요",
        (37.6057, 127.0176),
    )
    member = invited[0].expert_id
    other_incident, other_invited = report_and_wait_for_invitations(
        intake_url, service_app("community", database), "도봉구 창동 빌라에 물이 차고 있어요", (37.6530, 127.0470)
    )
    stranger = other_invited[0].expert_id  # a member of another room
    room = f"/communities/{incident_id}/room/messages"
    with httpx.Client(base_url=community_url, timeout=10) as client:
        posted = client.post(
            room,
            json={"text": "밸브 잠갔습니다. 환기 중", "lat": 37.6058, "lon": 127.0177},
            headers=token("expert", member),
        )
        assert posted.status_code == 201
        assert posted.json()["author"] == f"expert:{member}"
        assert client.post(room, json={"text": "hi"}, headers=token("operator", "alice")).status_code == 201
        assert [m["text"] for m in client.get(room, headers=token("expert", member)).json()] == [
            "밸브 잠갔습니다. 환기 중",
            "hi",
        ]
        assert client.get(room).status_code == 401
        if stranger != member:
            assert client.get(room, headers=token("expert", stranger)).status_code == 403
        assert client.get(room, headers=token("expert", "EXP-999")).status_code == 403  # never invited
        assert client.post(room, json={}, headers=token("expert", member)).status_code == 400
        departments = client.get(f"/communities/{incident_id}", headers=token("operator", "alice"))
        assert departments.status_code == 200
        engaged_station = "FS-11290"  # 성북소방서 is engaged for a gas leak in 성북구
        assert client.get(room, headers=token("department", engaged_station)).status_code == 200
        assert client.get(room, headers=token("department", "FS-11680")).status_code == 403
        declined = client.post(
            f"/communities/{incident_id}/invitations/{member}/decline", json={}, headers=token("expert", member)
        )
        assert declined.status_code == 200
        assert client.get(room, headers=token("expert", member)).status_code == 403  # released: access ends
        assert other_incident != incident_id
