"""The day's player against services kept in memory (an httpx transport): it acts as planned,
answers invitations that reached their experts in order by link or token, and keeps every error
response in its summary."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID, uuid4

import httpx

from jikimi.day import Answer, Close, Escalate, Incident, MakePublic, Message, Plan, Post, Targets, play
from shared.auth import verify_token
from shared.links import read_invitation_token

KEY = b"unit-tests-secret-key-0123456789abcdef"
INCIDENT = uuid4()


class Services:
    """intake.test, community.test and broadcast.test as the player sees them."""

    def __init__(self) -> None:
        self.members = dict.fromkeys(("EXP-1", "EXP-2", "EXP-3"), "invited")
        self.escalated_to = ""
        self.posted: list[tuple[str, str]] = []
        self.answered_by: dict[str, str] = {}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        host, path, method = request.url.host, request.url.path, request.method
        body = json.loads(request.content) if request.content else {}
        if path == "/health":
            return httpx.Response(200, json={"consumers": {"incidents": {"processed": 1, "parked": 0}}})
        if host == "intake.test":
            return self.intake(method, path, body)
        if host == "broadcast.test":
            members = [{"member": f"expert:{e}", "status": "delivered"} for e in self.members]
            return httpx.Response(200, json=members)
        return self.community(request, method, path, body)

    def intake(self, method: str, path: str, body: dict[str, Any]) -> httpx.Response:
        if path == "/channels/sms":
            return httpx.Response(500, json={"status": 500, "title": "Internal error", "detail": "nothing recorded"})
        if path == "/reports":
            return httpx.Response(201, json={"incident_id": str(INCIDENT), "status": "received"})
        if method == "GET":
            return httpx.Response(200, json={"id": str(INCIDENT), "severity": "moderate"})
        if path.endswith("/escalate"):
            self.escalated_to = body["severity"]
        return httpx.Response(200, json={})

    def community(self, request: httpx.Request, method: str, path: str, body: dict[str, Any]) -> httpx.Response:
        if method == "GET":
            members = [
                {"expert_id": e, "status": s, "expires_at": "2099-01-01T00:00:00Z"} for e, s in self.members.items()
            ]
            return httpx.Response(200, json={"members": members})
        bearer = request.headers.get("authorization", "").removeprefix("Bearer ")
        if path.endswith("/room/messages"):
            self.posted.append((verify_token(KEY, bearer).sub, body["text"]))
            return httpx.Response(201, json={})
        *_, token_or_expert, verb = path.split("/")
        if path.startswith("/invitations/"):
            incident, expert = read_invitation_token(KEY, token_or_expert)
            assert incident == INCIDENT
            self.answered_by[expert] = "link"
        else:
            expert = token_or_expert
            assert verify_token(KEY, bearer).sub == expert
            self.answered_by[expert] = "app"
        self.members[expert] = {"accept": "accepted", "decline": "declined"}[verb]
        return httpx.Response(200, json={})


def one_incident() -> Plan:
    actions = (
        Message(at_s=0, channel="web", citizen=1, text="마포구 합정동 빌라에서 불이 났어요", point=(37.5495, 126.9139)),
        Message(at_s=10, channel="sms", citizen=2, text="마포구 합정동 빌라 화재"),
        Escalate(at_s=20, operator="op-kim", reason="확산"),
        MakePublic(at_s=30, operator="op-kim", headline="마포구 합정동 화재", instruction="창문을 닫으세요"),
        Post(at_s=40, author="operator", operator="op-kim", text="현장 도착"),
        Post(at_s=50, author="expert", operator="op-kim", text="계단 진입 가능"),
        Close(at_s=60, operator="op-lee", outcome="resolved", summary="진압 완료"),
    )
    answers = (
        Answer(decision="accept", after_s=5, via="link"),
        Answer(decision="decline", after_s=5, via="app", reason="출동 중"),
        Answer(decision="ignore"),
    )
    incident = Incident(
        number=1,
        disaster_type="fire",
        district_code="11440",
        place="마포구 합정동 빌라",
        point=(37.5495, 126.9139),
        size="small",
        actions=actions,
        answers=answers,
    )
    return Plan(seed=0, month=3, weather=None, incidents=(incident,))


async def test_a_played_incident_is_reported_operated_answered_and_every_error_response_kept() -> None:
    services = Services()
    targets = Targets("http://intake.test", "http://community.test", "http://broadcast.test", KEY, {"sms": "s"})
    summary = await play(
        one_incident(), targets, speed=None, run="unit", quiet_s=0.01, transport=httpx.MockTransport(services)
    )

    [failure] = summary.failures
    assert (failure.method, failure.path, failure.status) == ("POST", "/channels/sms", 500)
    assert "nothing recorded" in failure.detail
    assert not summary.ok
    assert summary.incidents == {1: INCIDENT}
    assert summary.messages == {"web": 1, "sms": 1}
    assert services.escalated_to == "severe"  # one step above what the board showed
    assert summary.operations == {"escalate": 1, "public": 1, "close": 1}
    assert [(g.order, g.expert_id, g.decision) for g in sorted(summary.answers, key=lambda g: g.order)] == [
        (0, "EXP-1", "accept"),
        (1, "EXP-2", "decline"),
        (2, "EXP-3", "ignore"),
    ]
    assert services.answered_by == {"EXP-1": "link", "EXP-2": "app"}
    assert services.members["EXP-3"] == "invited"  # left to time out
    assert services.posted == [("op-kim", "현장 도착"), ("EXP-1", "계단 진입 가능")]  # the expert who accepted
    assert "failures   1" in "\n".join(summary.lines())


async def test_a_channel_without_its_secret_goes_through_the_web_api_and_says_so() -> None:
    services = Services()
    targets = Targets("http://intake.test", "http://community.test", "http://broadcast.test", KEY, {})
    summary = await play(
        one_incident(), targets, speed=None, run="unit", quiet_s=0.01, transport=httpx.MockTransport(services)
    )
    assert summary.failures == []
    assert summary.messages == {"web": 2}
    assert summary.rerouted == {"sms": 1}
    assert "sent through the web API" in "\n".join(summary.lines())
    assert isinstance(UUID(str(summary.incidents[1])), UUID)
