"""A department whose briefings go to a webhook gets each situation report as JSON, signed, beside
its text: broadcast as a real process, the community's assembly coming to it through the stream
as community publishes it, and a local receiver that checks the signature."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from uuid import uuid4

import msgspec
import pytest
from nats.aio.client import Client

from jikimi.embedded import free_port
from shared.events import CODEC, encode
from shared.events.broadcast import BriefingIssued, SitRep
from shared.events.common import ContactRef
from shared.events.community import CommunityAssembled, EngagedDepartment, SeatPlanned
from shared.privacy import Privacy
from shared.settings import DatabaseSettings, NatsSettings
from tests.integration.pipeline import eventually, service_app
from tests.integration.services import SECRET_KEY, service_process

SECRET = "whsec-briefings"
WAIT_S = 60.0  # a bound on waiting for what must happen, not a measure: a loaded machine may take its time
SOURCE = f"tests{uuid4().hex[:8]}"  # the assembly's tracking name: never a real service's positions
STATION = "FS-11545"


class Receiver(BaseHTTPRequestHandler):
    """A department's briefing endpoint: keeps what it was sent, answers 200 only to a signature
    it can verify."""

    received: list[dict[str, Any]] = []  # noqa: RUF012 -- shared by the server's handler instances

    def do_POST(self) -> None:  # http.server calls it by this name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        signed = verified(self.headers.get("Jikimi-Signature", ""), body)
        self.received.append({"path": self.path, "body": body, "verified": signed})
        self.send_response(200 if signed else 401)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *_: Any) -> None:
        pass


def verified(header: str, body: bytes) -> bool:
    """The receiver's check of ``Jikimi-Signature``, from the documented format alone."""
    parts = [p.split("=", 1) for p in header.split(",") if "=" in p]
    timestamp = next((v for k, v in parts if k == "t"), "")
    expected = hmac.new(SECRET.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return any(k == "v1" and hmac.compare_digest(v, expected) for k, v in parts)


@pytest.fixture(scope="module")
def receiver() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Receiver)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture(scope="module")
def broadcast(database: DatabaseSettings, nats_settings: NatsSettings, receiver: str) -> Iterator[str]:
    env = {
        "JIKIMI_WEBHOOK_SECRETS": SECRET,
        "JIKIMI_WEBHOOK_ALLOW_LOOPBACK": "1",  # the receiver is local; never set in production
    }
    with service_process("broadcast", database, nats_settings.url, env) as url:
        yield url


async def test_a_department_briefed_by_webhook_receives_the_situation_report_as_signed_json(
    nc: Client, broadcast: str, receiver: str, database: DatabaseSettings
) -> None:
    incident = uuid4()
    hook = Privacy(SECRET_KEY.encode()).seal_address("webhook", f"{receiver}/briefings/{STATION}")
    assembled = CommunityAssembled(
        originator_id=uuid4(),
        originator_version=1,
        incident_id=incident,
        disaster_type="fire",
        severity="severe",
        policy_version="test",
        seats=[SeatPlanned("fire", 2, 10), SeatPlanned("ems", 1, 10)],
        departments=[STATION],
        district_code="11545",
        engaged=[EngagedDepartment(STATION, "금천소방서", "fire_station", ContactRef("webhook", hook))],
        service=SOURCE,
        position=int(uuid4().int % 10**12),
    )
    await nc.jetstream().publish(
        f"jikimi.community.{CommunityAssembled.event_name()}",
        encode(assembled),
        headers={"Nats-Msg-Id": f"{SOURCE}:{assembled.position}"},
    )

    def briefings() -> list[dict[str, Any]]:
        calls = [(c, json.loads(c["body"])) for c in Receiver.received]
        return [c | {"json": p} for c, p in calls if p.get("incident_id") == str(incident)]

    await eventually(lambda: bool(briefings()), WAIT_S, "the fire station's briefing")
    [call] = briefings()
    assert call["path"] == f"/briefings/{STATION}"
    assert call["verified"], "the briefing's signature does not verify"
    payload = call["json"]
    assert (payload["kind"], payload["recipient"]) == ("briefing", STATION)
    assert "금천구" in payload["text"]

    sitrep = msgspec.json.decode(json.dumps(payload["sitrep"]), type=SitRep)
    assert (sitrep.report_number, sitrep.report_version, sitrep.severity) == (1, "Initial", "severe")
    assert sitrep.incident_ids == [incident]
    situation = sitrep.body.situation
    assert (situation.disaster_type, situation.district_code, situation.district) == ("fire", "11545", "금천구")
    assert {(s.field, s.needed) for s in sitrep.body.resources.seats} == {("fire", 2), ("ems", 1)}
    assert [d.id for d in sitrep.body.resources.departments] == [STATION]
    app = service_app("broadcast", database)
    logged = [CODEC.decode(n.state) for n in app.recorder.select_notifications(0, 1_000_000)]
    [issued] = [e for e in logged if isinstance(e, BriefingIssued)]
    assert sitrep == issued.sitrep  # the report the service issued, as GET …/briefings/1 shows it
