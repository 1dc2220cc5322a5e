"""A department briefed by webhook gets the situation report itself, as JSON beside the text and
signed with it; a department briefed by e-mail gets the text alone."""

from __future__ import annotations

import json

import httpx
import msgspec

from services.broadcast.deliveries import DeliveryView, Sender
from shared.events.broadcast import SitRep
from tests.unit.broadcast.test_briefings import PRIVACY, assembled_with_initial
from tests.unit.broadcast.test_channels import HOOK, message, verify, webhook
from tests.unit.broadcast.test_deliveries import FakeChannel


async def test_the_fire_stations_webhook_gets_the_sitrep_as_json_beside_the_text_signed_with_it() -> None:
    broadcast, _, initial = await assembled_with_initial()
    adapter, seen = webhook(lambda _: httpx.Response(200))
    mail = FakeChannel()
    sender = Sender(broadcast.app, DeliveryView(broadcast.app.recorder), {"webhook": adapter, "email": mail}, PRIVACY)
    await sender.send_due()

    [request] = seen
    assert request.url.path == "/FS-11110"
    payload = json.loads(request.content)
    assert (payload["kind"], payload["recipient"]) == ("briefing", "FS-11110")
    to_station = next(d for d in broadcast.sent(initial) if d.recipient == "FS-11110")
    assert payload["text"] == to_station.text
    assert msgspec.json.decode(json.dumps(payload["sitrep"]), type=SitRep) == initial.sitrep
    assert payload["sitrep"]["report_version"] == "Initial"
    assert payload["sitrep"]["body"]["situation"]["district"] == "종로구"
    assert verify(request.headers["Jikimi-Signature"], request.content, "new-secret")
    tampered = request.content.replace(b'"Initial"', b'"Final"')
    assert not verify(request.headers["Jikimi-Signature"], tampered, "new-secret")  # the report is signed too

    [(address, text, _)] = mail.sent
    assert address == "DO-11110@example.org"
    assert text == to_station.text  # the same report, as text only


async def test_only_the_request_to_a_webhook_carries_the_report() -> None:
    broadcast, _, initial = await assembled_with_initial()
    by_channel = {d.channel: d for d in broadcast.sent(initial)}
    assert by_channel["webhook"].sitrep == initial.sitrep
    assert by_channel["email"].sitrep is None


async def test_a_webhook_message_that_is_not_a_briefing_has_no_sitrep_key() -> None:
    adapter, seen = webhook(lambda _: httpx.Response(200))
    await adapter.send_message(HOOK, message())
    [request] = seen
    assert "sitrep" not in json.loads(request.content)
