"""Incident rooms live, over real HTTP: members' streams (Server-Sent Events) and reporters'
room links, with intake and community running as real processes."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest

from services.community.rooms import post_message
from shared.eventlog.application import ServiceApplication
from shared.events import Event
from shared.events.community import MemberInvited, ReporterJoined, ReporterLeft
from shared.links import invitation_token, room_token
from shared.settings import DatabaseSettings, NatsSettings
from tests.integration.pipeline import service_app
from tests.integration.services import SECRET_KEY, service_process
from tests.integration.test_community_assembly import community_events, token

KEY = SECRET_KEY.encode()


@pytest.fixture(scope="module")
def servers(database: DatabaseSettings, nats_settings: NatsSettings) -> Iterator[tuple[str, str]]:
    with (
        service_process("community", database, nats_settings.url) as community,
        service_process("intake", database, nats_settings.url) as intake,
    ):
        yield intake, community


@dataclass
class Reported:
    incident_id: UUID
    report_id: UUID
    invited: list[str]
    reporter: str  # the reporter's pseudonym, as community knows it


def wait_for(community: ServiceApplication, incident_id: UUID, done: Callable[[list[Event]], bool]) -> list[Event]:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        events = community_events(community, incident_id)
        if done(events):
            return events
        time.sleep(0.1)
    raise AssertionError(f"community did not get there within 20 s: {events}")


def report(intake_url: str, community: ServiceApplication, text: str, at: tuple[float, float]) -> Reported:
    """Report ``text`` at ``at``; once community invited experts and took the reporter in."""
    with httpx.Client(base_url=intake_url, timeout=10) as intake:
        body = {"text": text, "reporter": str(uuid4()), "location": {"lat": at[0], "lon": at[1]}}
        answer = intake.post("/reports", json=body).json()
    incident_id, report_id = UUID(answer["incident_id"]), UUID(answer["report_id"])

    def joined(events: list[Event]) -> bool:
        invited = any(isinstance(e, MemberInvited) for e in events)
        return invited and any(isinstance(e, ReporterJoined) and e.report_id == report_id for e in events)

    events = wait_for(community, incident_id, joined)
    [reporter] = [e.reporter for e in events if isinstance(e, ReporterJoined) and e.report_id == report_id]
    invited = [e.expert_id for e in events if isinstance(e, MemberInvited)]
    return Reported(incident_id, report_id, invited, reporter)


@dataclass
class Sse:
    event: str
    id: str
    data: Any


class Stream:
    """The events of one open SSE response, read as they come (keep-alive comments skipped)."""

    def __init__(self, response: httpx.Response) -> None:
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        self._lines = response.iter_lines()

    def next(self) -> Sse:
        event, id_, data = "message", "", []
        for line in self._lines:
            if line:
                field, _, value = line.partition(":")
                value = value.removeprefix(" ")
                if field == "event":
                    event = value
                elif field == "id":
                    id_ = value
                elif field == "data":
                    data.append(value)
            elif data:
                return Sse(event, id_, json.loads("\n".join(data)))
        raise EOFError("the server closed the stream")

    def until(self, event: str) -> list[Sse]:
        """Every event up to and including the next ``event``."""
        read = [self.next()]
        while read[-1].event != event:
            read.append(self.next())
        return read


def open_stream(client: httpx.Client, path: str, headers: dict[str, str] | None = None) -> Any:
    return client.stream("GET", path, headers=headers, timeout=httpx.Timeout(10, read=30))


def room_link(incident_id: UUID, reporter: str, **kwargs: Any) -> str:
    return "/rooms/" + room_token(KEY, incident_id, reporter, now=kwargs.pop("now", datetime.now(UTC)), **kwargs)


def test_a_member_streams_the_community_the_history_and_each_message_as_it_is_posted(
    servers: tuple[str, str], database: DatabaseSettings
) -> None:
    intake_url, community_url = servers
    gas = report(
        intake_url,
        service_app("community", database),
        "종로구 종로1가 건물에서 가스 냄새가 심하게 나요",
        (37.5704, 126.9831),
    )
    member = gas.invited[0]
    room = f"/communities/{gas.incident_id}/room"
    with httpx.Client(base_url=community_url, timeout=10) as client:
        assert (
            client.post(f"{room}/messages", json={"text": "밸브 확인 중"}, headers=token("expert", member)).status_code
            == 201
        )
        with open_stream(client, f"{room}/stream", token("expert", member)) as response:
            stream = Stream(response)
            community = stream.next()
            assert community.event == "community"
            assert community.data["incident_id"] == str(gas.incident_id)
            assert member in {m["expert_id"] for m in community.data["members"]}
            first = stream.next()
            assert (first.event, first.data["text"], first.data["author"]) == (
                "message",
                "밸브 확인 중",
                f"expert:{member}",
            )
            posted = client.post(f"{room}/messages", json={"text": "소방 도착"}, headers=token("operator", "alice"))
            assert posted.status_code == 201
            [pushed] = [e for e in stream.until("message") if e.event == "message"]
            assert (pushed.id, pushed.data["text"]) == (str(posted.json()["number"]), "소방 도착")
        # A reconnecting client resumes after its Last-Event-ID (or ?after=).
        headers = {**token("operator", "alice"), "Last-Event-ID": first.id}
        with open_stream(client, f"{room}/stream", headers) as response:
            stream = Stream(response)
            assert [e.data["text"] for e in stream.until("message") if e.event == "message"] == ["소방 도착"]
        with open_stream(client, f"{room}/stream?after={pushed.id}", token("operator", "alice")) as response:
            stream = Stream(response)
            assert stream.next().event == "community"
            client.post(f"{room}/messages", json={"lat": 37.5705, "lon": 126.9832}, headers=token("operator", "bob"))
            assert stream.next().data["author"] == "operator:bob"
            # Posted through another process (a replica): the stream learns of it from the database.
            post_message(service_app("community", database), gas.incident_id, author="operator:carol", text="교대")
            assert stream.next().data["text"] == "교대"


def test_only_the_room_s_members_operators_and_engaged_departments_may_stream_it(
    servers: tuple[str, str], database: DatabaseSettings
) -> None:
    intake_url, community_url = servers
    community_app = service_app("community", database)
    gas = report(intake_url, community_app, "종로구 관철동 식당에서 가스 냄새가 나요", (37.5690, 126.9860))
    flood = report(intake_url, community_app, "강서구 화곡동 반지하에 물이 차고 있어요", (37.5410, 126.8400))
    assert flood.incident_id != gas.incident_id
    room = f"/communities/{gas.incident_id}/room"
    strangers = [e for e in flood.invited if e not in gas.invited]  # members of another room only
    with httpx.Client(base_url=community_url, timeout=10) as client:
        assert client.get(f"{room}/stream").status_code == 401
        assert client.get(f"{room}/stream", headers=token("expert", "EXP-999")).status_code == 403  # never invited
        for stranger in strangers[:1]:
            assert client.get(f"{room}/stream", headers=token("expert", stranger)).status_code == 403
            assert client.get(f"{room}/messages", headers=token("expert", stranger)).status_code == 403
        assert client.get(f"{room}/stream", headers=token("department", "FS-11680")).status_code == 403
        with open_stream(client, f"{room}/stream", token("department", "FS-11110")) as response:  # 종로소방서
            assert Stream(response).next().event == "community"
        assert client.get(f"{room}/messages", headers=token("department", "FS-11110")).status_code == 200
        assert client.get(f"{room}/stream", headers=token("citizen", gas.reporter)).status_code == 403  # links only


def test_a_released_expert_s_open_stream_ends_with_access_ended(
    servers: tuple[str, str], database: DatabaseSettings
) -> None:
    intake_url, community_url = servers
    gas = report(
        intake_url,
        service_app("community", database),
        "용산구 이태원동 주택에서 가스 냄새가 심하게 나요",
        (37.5326, 126.9905),
    )
    member = gas.invited[0]
    room = f"/communities/{gas.incident_id}/room"
    with httpx.Client(base_url=community_url, timeout=10) as client:
        with open_stream(client, f"{room}/stream", token("expert", member)) as response:
            stream = Stream(response)
            assert stream.next().event == "community"
            with httpx.Client(base_url=intake_url, timeout=10) as intake:
                closed = intake.post(
                    f"/incidents/{gas.incident_id}/close",
                    json={"outcome": "resolved"},
                    headers=token("operator", "alice"),
                )
                assert closed.status_code == 200, closed.text
            ended = stream.until("access_ended")[-1]
            assert ended.data == {"reason": "released"}
            with pytest.raises(EOFError):
                stream.next()
        assert client.get(f"{room}/messages", headers=token("expert", member)).status_code == 403
        assert client.get(f"{room}/messages", headers=token("operator", "alice")).status_code == 200


def test_a_reporter_reads_posts_and_streams_the_room_by_their_link(
    servers: tuple[str, str], database: DatabaseSettings
) -> None:
    intake_url, community_url = servers
    fire = report(
        intake_url,
        service_app("community", database),
        "송파구 잠실동 아파트에서 불이 났어요 연기가 많이 나요",
        (37.5145, 127.1059),
    )
    link = room_link(fire.incident_id, fire.reporter)
    with httpx.Client(base_url=community_url, timeout=10) as client:
        summary = client.get(link)
        assert summary.status_code == 200, summary.text
        assert summary.json()["incident_id"] == str(fire.incident_id)
        assert summary.json()["disaster_type"] == "fire"
        assert summary.json()["seats"] >= 1
        assert "members" not in summary.json()
        assert fire.reporter not in summary.text and fire.invited[0] not in summary.text
        posted = client.post(
            f"{link}/messages", json={"text": "3층에 할머니가 계세요", "lat": 37.5146, "lon": 127.1060}
        )
        assert posted.status_code == 201, posted.text
        assert posted.json()["author"] == f"citizen:{fire.reporter}"
        assert client.post(f"{link}/messages", json={"text": "x" * 4001}).status_code == 400
        assert client.post(f"{link}/messages", json={"text": "북한", "lat": 40.0, "lon": 127.0}).status_code == 400
        assert client.post(f"{link}/messages", json={}).status_code == 400
        assert [m["text"] for m in client.get(f"{link}/messages").json()] == ["3층에 할머니가 계세요"]
        members_room = f"/communities/{fire.incident_id}/room/messages"
        assert (
            client.get(members_room, headers=token("operator", "alice")).json()[0]["author"]
            == f"citizen:{fire.reporter}"
        )
        with open_stream(client, f"{link}/stream") as response:
            stream = Stream(response)
            community = stream.next()
            assert community.event == "community"
            assert community.data["disaster_type"] == "fire"
            assert "members" not in community.data
            assert stream.next().data["text"] == "3층에 할머니가 계세요"
            client.post(members_room, json={"text": "구조대 3층 진입"}, headers=token("operator", "alice"))
            [pushed] = [e for e in stream.until("message") if e.event == "message"]
            assert (pushed.data["author"], pushed.data["text"]) == ("operator:alice", "구조대 3층 진입")
        assert client.get(room_link(fire.incident_id, "someone-else")).status_code == 403  # not its reporter
    # A second reporter of the same fire sees the first as just "citizen", and themself by pseudonym.
    second = report(
        intake_url, service_app("community", database), "잠실동 아파트 불 연기 많이 나요", (37.5146, 127.1058)
    )
    assert second.incident_id == fire.incident_id
    second_link = room_link(second.incident_id, second.reporter)
    with httpx.Client(base_url=community_url, timeout=10) as client:
        assert client.post(f"{second_link}/messages", json={"text": "저도 봤어요"}).status_code == 201
        authors = [m["author"] for m in client.get(f"{second_link}/messages").json()]
        assert authors == ["citizen", "operator:alice", f"citizen:{second.reporter}"]


def test_a_forged_expired_or_foreign_link_is_refused_and_a_link_opens_only_its_own_room(
    servers: tuple[str, str], database: DatabaseSettings
) -> None:
    intake_url, community_url = servers
    community_app = service_app("community", database)
    fire = report(intake_url, community_app, "광진구 자양동 빌라에서 불이 났어요 연기가 나요", (37.5347, 127.0822))
    flood = report(intake_url, community_app, "양천구 신월동 반지하에 물이 차고 있어요", (37.5200, 126.8330))
    fire_link, flood_link = room_link(fire.incident_id, fire.reporter), room_link(flood.incident_id, flood.reporter)
    with httpx.Client(base_url=community_url, timeout=10) as client:
        assert client.post(f"{fire_link}/messages", json={"text": "불 번지는 중"}).status_code == 201
        assert client.post(f"{flood_link}/messages", json={"text": "물이 무릎까지"}).status_code == 201
        assert client.get(flood_link).json()["incident_id"] == str(flood.incident_id)
        assert [m["text"] for m in client.get(f"{flood_link}/messages").json()] == ["물이 무릎까지"]
        forged = fire_link[:-3] + ("aaa" if not fire_link.endswith("aaa") else "bbb")
        expired = room_link(fire.incident_id, fire.reporter, now=datetime(2020, 1, 1, tzinfo=UTC))
        invitation = "/rooms/" + invitation_token(
            KEY, fire.incident_id, fire.invited[0], expires_at=datetime(2099, 1, 1, tzinfo=UTC), now=datetime.now(UTC)
        )
        for bad in (forged, expired, invitation, "/rooms/nonsense"):
            for path in (bad, f"{bad}/messages", f"{bad}/stream"):
                refused = client.get(path)
                assert refused.status_code == 401, (path, refused.text)
                assert "room link is not valid" in refused.json()["title"]
            assert client.post(f"{bad}/messages", json={"text": "hi"}).status_code == 401


def test_a_reporter_moved_out_of_the_incident_loses_the_room(
    servers: tuple[str, str], database: DatabaseSettings
) -> None:
    intake_url, community_url = servers
    community_app = service_app("community", database)
    fire = report(intake_url, community_app, "은평구 불광동 빌라에서 불이 났어요 연기가 나요", (37.6100, 126.9290))
    link = room_link(fire.incident_id, fire.reporter)
    with httpx.Client(base_url=community_url, timeout=10) as client:
        with open_stream(client, f"{link}/stream") as response:
            stream = Stream(response)
            assert stream.next().event == "community"
            with httpx.Client(base_url=intake_url, timeout=10) as intake:
                unlinked = intake.post(
                    f"/incidents/{fire.incident_id}/links/{fire.report_id}/unlink",
                    json={"reason": "another fire"},
                    headers=token("operator", "alice"),
                )
                assert unlinked.status_code == 200, unlinked.text
            assert stream.until("access_ended")[-1].data == {"reason": "left"}
        wait_for(community_app, fire.incident_id, lambda es: any(isinstance(e, ReporterLeft) for e in es))
        assert client.get(link).status_code == 403
        assert client.post(f"{link}/messages", json={"text": "hi"}).status_code == 403
