"""District subscriptions on the in-memory store: subscribing once, unsubscribing by the link's
token, each bad field named, no address in the clear, and the guide fanned out per subscriber."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from uuid import uuid4

import pytest
from litestar import Litestar
from litestar.datastructures import State
from litestar.di import Provide
from litestar.testing import TestClient

from services.broadcast.api.subscriptions import SubscriptionController, SubscriptionDesk
from services.broadcast.application import BroadcastApplication
from services.broadcast.subscriptions import KIND, DistrictGuides, Subscriptions
from shared.events import CODEC
from shared.events.broadcast import AlertBatchRequested
from shared.events.cap import CapAlert, CapInfo
from shared.events.common import GeoPoint, Location
from shared.events.intake import CapAlertReceived, IncidentOpened
from shared.guides import get_guide
from shared.privacy import Privacy
from shared.problems import problem_handlers

KEY = b"unit-tests-secret-key-0123456789abcdef"
MAPO, GANGNAM = "11440", "11680"


@pytest.fixture
def app() -> BroadcastApplication:
    return BroadcastApplication()


@pytest.fixture
def view(app: BroadcastApplication) -> Subscriptions:
    return Subscriptions(app.recorder)


@pytest.fixture
def client(app: BroadcastApplication, view: Subscriptions) -> Iterator[TestClient[Litestar]]:
    desk = SubscriptionDesk(app, view, Privacy(KEY), KEY)
    web = Litestar(
        [SubscriptionController],
        state=State({"subscription_desk": desk}),
        dependencies={"subscription_desk": Provide(lambda: desk, sync_to_thread=False)},
        exception_handlers=problem_handlers(),
    )
    with TestClient(web) as client:
        yield client


def body(district: str = MAPO, channel: str = "sms", address: str = "010-1234-5678", language: str = "ko") -> dict:
    return {"district_code": district, "channel": channel, "address": address, "language": language}


def stored(app: BroadcastApplication) -> list[bytes]:
    return [n.state for n in app.recorder.select_notifications(0, 1000)]


def opened(district: str | None = MAPO, disaster_type: str = "fire", point: GeoPoint | None = None) -> IncidentOpened:
    incident = uuid4()
    return IncidentOpened(
        originator_id=incident,
        originator_version=1,
        incident_id=incident,
        disaster_type=disaster_type,
        severity="severe",
        title="상가 화재",
        location=Location(point=point, district_code=district),
    )


def test_the_same_address_and_district_twice_is_one_subscription(
    client: TestClient[Litestar], app: BroadcastApplication
) -> None:
    first = client.post("/public/subscriptions", json=body())
    again = client.post("/public/subscriptions", json=body())
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["subscription_id"] == again.json()["subscription_id"]
    assert len(stored(app)) == 1
    other_district = client.post("/public/subscriptions", json=body(district=GANGNAM))
    assert other_district.status_code == 201


def test_the_unsubscribe_link_ends_the_subscription(
    client: TestClient[Litestar], view: Subscriptions, app: BroadcastApplication
) -> None:
    token = client.post("/public/subscriptions", json=body()).json()["unsubscribe_token"]
    assert client.delete(f"/public/subscriptions/{token}").status_code == 204
    assert client.delete(f"/public/subscriptions/{token}").status_code == 204  # once is enough
    view.catch_up()
    assert view.of_district(MAPO) == []
    assert len(stored(app)) == 2
    assert client.delete("/public/subscriptions/not-a-token").status_code == 403


@pytest.mark.parametrize(
    ("request_body", "field"),
    [
        (body(district="26440"), "district_code"),  # Busan's, not Seoul's
        (body(district="mapo"), "district_code"),
        (body(channel="fax"), "channel"),
        (body(language="ja"), "language"),
        (body(address="not a phone"), "address"),
        (body(channel="email", address="nobody"), "address"),
    ],
)
def test_a_bad_field_is_named_and_nothing_is_recorded(
    client: TestClient[Litestar], app: BroadcastApplication, request_body: dict, field: str
) -> None:
    answer = client.post("/public/subscriptions", json=request_body)
    assert answer.status_code == 400
    assert field in answer.json()["detail"]
    assert stored(app) == []


def test_the_address_is_never_stored_in_the_clear(client: TestClient[Litestar], app: BroadcastApplication) -> None:
    answer = client.post("/public/subscriptions", json=body(address="010-9876-5432"))
    assert "9876" not in answer.text
    [event] = stored(app)
    assert b"9876" not in event
    added = CODEC.decode(event)
    assert Privacy(KEY).unseal(added.address_sealed) == "sms:010-9876-5432"  # type: ignore[attr-defined]


def fan_out(client: TestClient[Litestar], view: Subscriptions, cause: object) -> list[AlertBatchRequested]:
    view.catch_up()
    return list(DistrictGuides(view).handle(cause))  # type: ignore[arg-type]


def each(batches: list[AlertBatchRequested]) -> list[tuple[str, str, str]]:
    """(recipient, language, text) of every recipient of ``batches``."""
    return [(r.recipient, r.language, b.texts[r.language]) for b in batches for r in b.recipients]


def test_a_fire_in_mapo_reaches_each_mapo_subscriber_in_their_language(
    client: TestClient[Litestar], view: Subscriptions
) -> None:
    client.post("/public/subscriptions", json=body(address="010-1111-1111", language="ko"))
    client.post("/public/subscriptions", json=body(address="010-2222-2222", language="en"))
    client.post("/public/subscriptions", json=body(district=GANGNAM, address="010-3333-3333"))
    batches = fan_out(client, view, opened())
    assert [(b.channel, b.kind, len(b.recipients)) for b in batches] == [("sms", KIND, 2)]
    by_language = {language: text for _, language, text in each(batches)}
    fire = get_guide("fire")
    assert fire.ko.short in by_language["ko"] and "마포구" in by_language["ko"]
    assert fire.en.short in by_language["en"] and "Mapo-gu" in by_language["en"]
    assert all("010" not in recipient and "010" not in text for recipient, _, text in each(batches))


def test_redelivered_incident_asks_for_the_same_deliveries(client: TestClient[Litestar], view: Subscriptions) -> None:
    client.post("/public/subscriptions", json=body())
    incident = opened()
    first, again = fan_out(client, view, incident), fan_out(client, view, incident)
    assert [r.originator_id for r in first] == [r.originator_id for r in again]
    assert fan_out(client, view, opened())[0].originator_id != first[0].originator_id


def test_an_incident_known_only_by_its_point_reaches_its_district(
    client: TestClient[Litestar], view: Subscriptions
) -> None:
    client.post("/public/subscriptions", json=body())
    assert len(each(fan_out(client, view, opened(district=None, point=GeoPoint(37.5594, 126.9081))))) == 1


def alert(status: str = "Actual", districts: tuple[str, ...] = (MAPO, GANGNAM)) -> CapAlertReceived:
    sent = datetime(2025, 7, 1, tzinfo=UTC)
    infos = [
        CapInfo(["Met"], "호우", "Immediate", "Severe", "Observed", "ko-KR", headline="호우 경보", instruction="대피"),
        CapInfo(["Met"], "Rain", "Immediate", "Severe", "Observed", "en-US", headline="Heavy rain", instruction="Go"),
    ]
    cap = CapAlert("KR-1", "kma@korea.kr", sent, status, "Alert", "Public", infos=infos)
    return CapAlertReceived(
        originator_id=uuid4(),
        originator_version=1,
        identifier="KR-1",
        sender="kma@korea.kr",
        sent=sent,
        status=status,
        msg_type="Alert",
        scope="Public",
        alert=cap,
        district_codes=list(districts),
    )


def test_a_national_alert_reaches_each_subscriber_once_in_their_language(
    client: TestClient[Litestar], view: Subscriptions
) -> None:
    client.post("/public/subscriptions", json=body(language="en"))
    client.post("/public/subscriptions", json=body(district=GANGNAM, language="en"))  # the same phone, two districts
    [(_, _, text)] = each(fan_out(client, view, alert()))
    assert text == "Heavy rain\nGo"
    assert fan_out(client, view, alert(status="Exercise")) == []
