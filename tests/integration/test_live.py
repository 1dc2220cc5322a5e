"""A member's live stream: invitations and room messages reach them over SSE and WebSocket, in
order, resumable without gap or duplicate; what they acknowledge shows as seen. Intake, community
and broadcast as real processes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from shared.events.community import CommunityAssembled
from shared.settings import DatabaseSettings, NatsSettings
from tests.integration.pipeline import service_app
from tests.integration.services import service_process
from tests.integration.test_community_assembly import community_events, token
from tests.integration.test_rooms import Stream, open_stream, report


@pytest.fixture(scope="module")
def three(database: DatabaseSettings, nats_settings: NatsSettings) -> Iterator[tuple[str, str, str]]:
    with (
        service_process("community", database, nats_settings.url) as community,
        service_process("broadcast", database, nats_settings.url) as broadcast,
        service_process("intake", database, nats_settings.url) as intake,
    ):
        yield intake, community, broadcast


def items_until(stream: Stream, kind: str) -> list[Any]:
    """The stream's items up to and including the next of ``kind``."""
    read = []
    while True:
        sse = stream.next()
        assert sse.event == "item", sse
        read.append(sse)
        if sse.data["kind"] == kind:
            return read


def test_members_hear_their_invitations_and_their_rooms_messages_live_and_resume_without_gaps(
    three: tuple[str, str, str], database: DatabaseSettings
) -> None:
    """No channel is configured here, so invitations reach no expert's phone and seats pass on;
    the engaged fire station stays in the room and is the member the messages are checked on."""
    intake_url, community_url, broadcast_url = three
    community_log = service_app("community", database)
    reported = report(intake_url, community_log, "은평구 연신내역 앞 상가 2층에서 불이 났어요", (37.6190, 126.9210))
    incident = reported.incident_id
    [assembled] = [e for e in community_events(community_log, incident) if isinstance(e, CommunityAssembled)]
    station = next(d for d in assembled.departments if d.startswith("FS-"))
    me = token("department", station)
    with (
        httpx.Client(base_url=broadcast_url, timeout=10) as broadcast,
        httpx.Client(base_url=community_url, timeout=10) as community,
    ):
        assert broadcast.get("/live/stream").status_code == 401
        refused = broadcast.get("/live/stream", headers={**me, "Last-Event-ID": "latest"})
        assert refused.status_code == 400
        assert "Last-Event-ID" in refused.text
        with open_stream(broadcast, "/live/stream", headers=token("expert", reported.invited[0])) as response:
            [*_, invitation] = items_until(Stream(response), "invitation")
            assert invitation.data["incident_id"] == str(incident)
            assert "{link}" not in invitation.data["text"]
            assert "/invitations/" not in invitation.data["text"]  # links go only to the phone

        with open_stream(broadcast, "/live/stream", headers=me) as response:
            stream = Stream(response)
            for text in ("2층 계단 쪽 진입 가능", "옥상 대피자 2명"):
                posted = community.post(
                    f"/communities/{incident}/room/messages", json={"text": text}, headers=token("operator", "alice")
                )
                assert posted.status_code == 201
            [*_, first] = items_until(stream, "room_message")
            [*_, second] = items_until(stream, "room_message")
            assert (first.data["text"], second.data["text"]) == ("2층 계단 쪽 진입 가능", "옥상 대피자 2명")
            assert first.data["data"]["author"] == "operator:alice"
            assert int(second.id) > int(first.id)

        # Reconnecting after the first message gives the second once, and nothing before it.
        with open_stream(broadcast, "/live/stream", headers={**me, "Last-Event-ID": first.id}) as response:
            again = Stream(response).next()
            assert (again.id, again.data["text"]) == (second.id, "옥상 대피자 2명")

        # The same over a WebSocket, authenticated by its first frame, acknowledging the message.
        ws_url = broadcast_url.replace("http://", "ws://") + "/live/ws"
        with connect(ws_url) as socket:
            socket.send(json.dumps({"token": me["Authorization"].removeprefix("Bearer "), "after": int(first.id)}))
            frame = json.loads(socket.recv(timeout=20))
            assert (frame["type"], frame["id"], frame["text"]) == ("item", int(second.id), "옥상 대피자 2명")
            socket.send(json.dumps({"ack": [frame["delivery_id"]]}))
            assert json.loads(socket.recv(timeout=20)) == {"type": "acked", "count": 1}

        operator = token("operator", "alice")
        sent = broadcast.get(f"/incidents/{incident}/deliveries", params={"kind": "room_message"}, headers=operator)
        mine = [d for d in sent.json() if d["member"] == f"department:{station}"]
        assert [(d["status"], d["seen"]) for d in mine] == [("delivered", False), ("delivered", True)]
        unseen = broadcast.get(
            f"/incidents/{incident}/deliveries", params={"kind": "room_message", "seen": False}, headers=operator
        ).json()
        assert {d["delivery_id"] for d in unseen} >= {mine[0]["delivery_id"]}  # "who has not seen it?"
        assert mine[1]["delivery_id"] not in {d["delivery_id"] for d in unseen}
        assert broadcast.get(f"/incidents/{incident}/deliveries", headers=me).status_code == 403


def test_a_member_of_another_room_or_a_stranger_sees_none_of_it(
    three: tuple[str, str, str], database: DatabaseSettings
) -> None:
    intake_url, community_url, broadcast_url = three
    community_log = service_app("community", database)
    first = report(intake_url, community_log, "도봉구 창동 아파트에서 불이 났어요", (37.6530, 127.0470))
    other = report(intake_url, community_log, "강서구 화곡동 주택에 화재 발생", (37.5410, 126.8400))
    [assembled] = [e for e in community_events(community_log, other.incident_id) if isinstance(e, CommunityAssembled)]
    station = next(d for d in assembled.departments if d.startswith("FS-"))  # Gangseo's, not Dobong's
    operator = token("operator", "bob")
    with (
        httpx.Client(base_url=community_url, timeout=10) as community,
        httpx.Client(base_url=broadcast_url, timeout=10) as broadcast,
        open_stream(broadcast, "/live/stream", headers=token("department", station)) as response,
    ):
        stream = Stream(response)
        for incident, text in ((first.incident_id, "도봉 3층 확인"), (other.incident_id, "강서 진압 중")):
            posted = community.post(f"/communities/{incident}/room/messages", json={"text": text}, headers=operator)
            assert posted.status_code == 201
        [*_, message] = items_until(stream, "room_message")
        assert (message.data["text"], message.data["incident_id"]) == ("강서 진압 중", str(other.incident_id))

    with httpx.Client(base_url=broadcast_url, timeout=10) as broadcast:
        assert broadcast.get("/live/stream", headers=token("analyst", "ann")).status_code == 403
        assert broadcast.post(
            "/live/ack", json={"ids": [str(first.incident_id)]}, headers=token("expert", "EXP-999")
        ).json() == {"acknowledged": 0}  # nothing of theirs: nothing recorded
    ws_url = broadcast_url.replace("http://", "ws://") + "/live/ws"
    with connect(ws_url) as socket:
        socket.send(json.dumps({"token": "forged.token"}))
        with pytest.raises(ConnectionClosed) as closed:
            socket.recv(timeout=10)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
