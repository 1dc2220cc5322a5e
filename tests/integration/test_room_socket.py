"""An incident's room over a WebSocket: updates as on its SSE stream, posting on the same socket,
and nobody in who does not belong (real intake and community processes)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from shared.events.community import CommunityAssembled
from shared.links import room_token
from shared.settings import DatabaseSettings
from tests.integration.pipeline import service_app
from tests.integration.services import SECRET_KEY
from tests.integration.test_community_assembly import community_events, token
from tests.integration.test_rooms import report, servers

__all__ = ["servers"]  # the module's fixture, shared with the SSE tests


def frames_until(socket: ClientConnection, kind: str) -> list[dict[str, Any]]:
    read = [json.loads(socket.recv(timeout=20))]
    while read[-1]["type"] != kind:
        read.append(json.loads(socket.recv(timeout=20)))
    return read


def hello(socket: ClientConnection, role: str, subject: str, after: int = 0) -> None:
    bearer = token(role, subject)["Authorization"].removeprefix("Bearer ")
    socket.send(json.dumps({"token": bearer, "after": after}))


def test_a_department_in_the_room_streams_and_posts_on_one_socket(
    servers: tuple[str, str], database: DatabaseSettings
) -> None:
    intake_url, community_url = servers
    community_log = service_app("community", database)
    reported = report(intake_url, community_log, "서초구 반포동 상가 지하에서 불이 났어요", (37.5040, 127.0050))
    [assembled] = [
        e for e in community_events(community_log, reported.incident_id) if isinstance(e, CommunityAssembled)
    ]
    station = next(d for d in assembled.departments if d.startswith("FS-"))
    url = community_url.replace("http://", "ws://") + f"/communities/{reported.incident_id}/room/ws"
    with connect(url) as socket:
        hello(socket, "department", station)
        [community] = frames_until(socket, "community")
        assert community["disaster_type"] == "fire"
        socket.send(json.dumps({"post": {"text": "지하 1층 진입로 확보"}}))
        got = frames_until(socket, "message")
        [message] = [f for f in got if f["type"] == "message"]
        assert (message["text"], message["author"]) == ("지하 1층 진입로 확보", f"department:{station}")
        socket.send(json.dumps({"post": {}}))
        errors = [f for f in frames_until(socket, "error") if f["type"] == "error"]
        assert "text" in errors[0]["message"]
    # Resuming after the message gives nothing older than what follows it.
    with connect(url) as socket:
        hello(socket, "department", station, after=message["number"])
        frames_until(socket, "community")
        socket.send(json.dumps({"post": {"text": "배연 시작"}}))
        later = [f for f in frames_until(socket, "message") if f["type"] == "message"]
        assert [f["text"] for f in later] == ["배연 시작"]


def test_a_stranger_a_forged_token_and_a_citizen_token_are_not_let_in(
    servers: tuple[str, str], database: DatabaseSettings
) -> None:
    intake_url, community_url = servers
    reported = report(intake_url, service_app("community", database), "마포구 망원동 주택 화재", (37.5560, 126.9100))
    url = community_url.replace("http://", "ws://") + f"/communities/{reported.incident_id}/room/ws"
    with connect(url) as socket:
        hello(socket, "expert", "EXP-999")  # never invited
        assert [f["type"] for f in frames_until(socket, "access_ended")] == ["access_ended"]  # and nothing else
    citizen = room_token(SECRET_KEY.encode(), reported.incident_id, reported.reporter, now=datetime.now(UTC))
    for first_frame in ({"token": "forged.token"}, {"nothing": "here"}, {"token": citizen}):
        with connect(url) as socket:
            socket.send(json.dumps(first_frame))
            with pytest.raises(ConnectionClosed) as closed:
                socket.recv(timeout=20)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
