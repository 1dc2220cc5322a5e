"""The SMS/Kakao gateway's bulk API against a mock transport: one request for many messages,
a result for each, and one bad number failing only its own message."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from uuid import UUID

import httpx
import pytest

from services.broadcast.channels import (
    BulkAdapter,
    ChannelConfig,
    DeliveryError,
    GatewayAdapter,
    GatewayMessage,
    adapters_from,
)

URL, BULK_URL, SECRET = "https://gw.example.org/sms", "https://gw.example.org/sms/bulk", "gw-secret"


def gateway(
    answer: Callable[[httpx.Request], httpx.Response], **more: Any
) -> tuple[GatewayAdapter, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return answer(request)

    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    options: dict[str, Any] = {"bulk_url": BULK_URL, **more}
    return GatewayAdapter(client, URL, "sms", SECRET, **options), seen


def messages(*numbers: str) -> list[GatewayMessage]:
    return [GatewayMessage(UUID(int=n), number, f"[지키미] 안내 {n}") for n, number in enumerate(numbers, 1)]


def results(*items: dict[str, str]) -> httpx.Response:
    return httpx.Response(200, json={"results": list(items)})


def each_accepted(request: httpx.Request) -> httpx.Response:
    sent = json.loads(request.content)["messages"]
    return results(*({"id": m["id"], "status": "accepted", "message_id": f"gw-{m['to']}"} for m in sent))


async def test_many_messages_go_in_one_request_each_with_its_own_key() -> None:
    adapter, seen = gateway(each_accepted)
    outcome = await adapter.send_many(messages("010-0000-0001", "010-0000-0002"))
    assert outcome == ["gw-010-0000-0001", "gw-010-0000-0002"]
    [request] = seen
    assert (request.url, request.headers["X-Jikimi-Gateway-Secret"]) == (BULK_URL, SECRET)
    assert json.loads(request.content) == {
        "channel": "sms",
        "messages": [
            {"id": str(UUID(int=1)), "to": "010-0000-0001", "text": "[지키미] 안내 1"},
            {"id": str(UUID(int=2)), "to": "010-0000-0002", "text": "[지키미] 안내 2"},
        ],
    }


async def test_one_bad_number_fails_only_its_message_and_for_good() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return results(
            {"id": str(UUID(int=1)), "status": "accepted", "message_id": "gw-1"},
            {"id": str(UUID(int=2)), "status": "rejected", "error": "invalid_number"},
            {"id": str(UUID(int=3)), "status": "accepted", "message_id": "gw-3"},
        )

    adapter, _ = gateway(answer)
    first, bad, third = await adapter.send_many(messages("010-0000-0001", "010-0000-000", "010-0000-0003"))
    assert (first, third) == ("gw-1", "gw-3")
    assert isinstance(bad, DeliveryError)
    assert not bad.retryable
    assert str(bad) == "the gateway rejected it (invalid_number)"


async def test_a_deferred_message_and_one_the_answer_leaves_out_are_tried_again() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return results(
            {"id": str(UUID(int=1)), "status": "retry", "error": "carrier_busy"},
            {"id": str(UUID(int=3)), "status": "accepted", "message_id": "gw-3"},
        )

    adapter, _ = gateway(answer)
    deferred, left_out, accepted = await adapter.send_many(messages("010-1", "010-2", "010-3"))
    assert isinstance(deferred, DeliveryError)
    assert isinstance(left_out, DeliveryError)
    assert (deferred.retryable, left_out.retryable, accepted) == (True, True, "gw-3")
    assert "carrier_busy" in str(deferred)


async def test_the_gateways_own_words_never_reach_the_reason_only_a_short_code() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return results({"id": str(UUID(int=1)), "status": "rejected", "error": "010-9999-8888 is not a mobile number"})

    adapter, _ = gateway(answer)
    [refused] = await adapter.send_many(messages("010-9999-8888"))
    assert str(refused) == "the gateway rejected it"  # the reason goes into events: no number in it


@pytest.mark.parametrize(
    ("answer", "retryable"),
    [
        (httpx.Response(503), True),
        (httpx.Response(429), True),
        (httpx.Response(200, content=b"<html>maintenance</html>"), True),
        (httpx.Response(401), False),
        (httpx.Response(400), False),
    ],
)
async def test_an_answer_to_the_whole_request_is_each_messages_answer(answer: httpx.Response, retryable: bool) -> None:
    adapter, _ = gateway(lambda _: answer)
    outcome = await adapter.send_many(messages("010-1", "010-2"))
    assert all(isinstance(o, DeliveryError) and o.retryable == retryable for o in outcome)
    assert len(outcome) == 2


async def test_a_gateway_that_cannot_be_reached_is_tried_again_for_every_message() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    adapter, _ = gateway(answer)
    outcome = await adapter.send_many(messages("010-1", "010-2"))
    assert [isinstance(o, DeliveryError) and o.retryable for o in outcome] == [True, True]


async def test_more_messages_than_the_gateway_takes_at_once_go_in_several_requests() -> None:
    adapter, seen = gateway(each_accepted, bulk_limit=2)
    outcome = await adapter.send_many(messages("010-1", "010-2", "010-3", "010-4", "010-5"))
    assert outcome == ["gw-010-1", "gw-010-2", "gw-010-3", "gw-010-4", "gw-010-5"]
    assert [len(json.loads(r.content)["messages"]) for r in seen] == [2, 2, 1]


async def test_without_a_bulk_url_messages_go_one_request_each_with_their_key() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        to = json.loads(request.content)["to"]
        return httpx.Response(400) if to == "010-2" else httpx.Response(200, json={"id": f"gw-{to}"})

    adapter, seen = gateway(answer, bulk_url="")
    assert adapter.bulk_max == 0
    first, refused = await adapter.send_many(messages("010-1", "010-2"))
    assert first == "gw-010-1"
    assert isinstance(refused, DeliveryError)
    assert not refused.retryable
    assert sorted(r.headers["Idempotency-Key"] for r in seen) == [str(UUID(int=1)), str(UUID(int=2))]
    assert {r.url for r in seen} == {httpx.URL(URL)}


def test_the_bulk_api_is_used_where_the_environment_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JIKIMI_SMS_GATEWAY_URL", URL)
    monkeypatch.setenv("JIKIMI_SMS_GATEWAY_BULK_URL", BULK_URL)
    monkeypatch.setenv("JIKIMI_KAKAO_GATEWAY_URL", "https://gw.example.org/kakao")
    monkeypatch.setenv("JIKIMI_GATEWAY_BULK_MAX", "500")
    adapters = adapters_from(ChannelConfig.from_env(), httpx.AsyncClient())
    sms, kakao = adapters["sms"], adapters["kakao"]
    assert isinstance(sms, BulkAdapter)
    assert isinstance(kakao, BulkAdapter)
    assert (sms.bulk_max, kakao.bulk_max) == (500, 0)  # Kakao's gateway has no bulk URL: one at a time
