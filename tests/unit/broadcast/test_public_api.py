"""The public's routes over HTTP, on a view folded by hand: no token, problem details for refusals."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from litestar import Litestar
from litestar.datastructures import State
from litestar.testing import TestClient

from services.broadcast.public import PublicController, PublicView
from shared.guides import all_guides
from shared.problems import problem_handlers
from tests.unit.broadcast.test_public_events import Story, assert_valid_cap, national, parse


@pytest.fixture
def view() -> PublicView:
    return PublicView()


@pytest.fixture
def client(view: PublicView) -> Iterator[TestClient[Litestar]]:
    view.caught_up.set()
    app = Litestar([PublicController], state=State({"public": view}), exception_handlers=problem_handlers())
    with TestClient(app) as client:
        yield client


def test_the_public_incidents_say_what_where_and_what_to_do_but_nothing_personal(
    view: PublicView, client: TestClient[Litestar]
) -> None:
    story = Story("fire", "severe")
    for sequence, event in enumerate((story.opened, story.made_public(), story.updated("진화 중", injured=1)), 1):
        view.apply(event, sequence)

    answer = client.get("/public/incidents", params={"district": "11440", "type": "fire"})

    assert answer.status_code == 200
    [incident] = answer.json()
    assert incident["type_en"] == "Fire"
    assert incident["guide"] == "fire"
    assert incident["place"] == {
        "district_code": "11440",
        "ko": "마포구",
        "en": "Mapo-gu",
        "lat": 37.5594,
        "lon": 126.9081,
    }
    assert (incident["situation"], incident["casualties_injured"]) == ("진화 중", 1)
    assert "126.9142" not in answer.text
    assert "op-kim" not in answer.text
    assert client.get("/public/incidents", params={"district": "11680"}).json() == []


def test_an_unknown_district_or_type_is_refused_naming_it(client: TestClient[Litestar]) -> None:
    district = client.get("/public/incidents", params={"district": "99999"})
    kind = client.get("/public/incidents", params={"type": "meteor"})

    assert (district.status_code, kind.status_code) == (400, 400)
    assert "99999" in district.json()["detail"]
    assert "meteor" in kind.json()["detail"]
    assert district.headers["content-type"].startswith("application/problem+json")


def test_the_feed_and_each_alert_are_served_as_atom_and_cap(view: PublicView, client: TestClient[Litestar]) -> None:
    received = national(expires=None)  # the route reads the clock: an alert without an end
    view.apply(received, 1)

    feed = client.get("/public/alerts.atom")
    cap = client.get(f"/public/alerts/{received.originator_id}.cap")

    assert feed.headers["content-type"].startswith("application/atom+xml")
    assert cap.headers["content-type"].startswith("application/cap+xml")
    assert_valid_cap(parse(cap.content))
    assert str(received.originator_id) in feed.text


def test_an_alert_that_is_not_there_is_404(client: TestClient[Litestar]) -> None:
    assert client.get("/public/alerts/00000000-0000-0000-0000-000000000000.cap").status_code == 404
    assert client.get("/public/alerts/not-an-alert.cap").status_code == 404
    assert client.get("/public/alerts/00000000-0000-0000-0000-000000000000.xml").status_code == 404


def test_the_guides_are_listed_with_their_names_in_both_languages(client: TestClient[Litestar]) -> None:
    answer = client.get("/public/guides").json()

    assert [g["slug"] for g in answer] == [g.slug for g in all_guides()]
    assert {"slug": "fire", "code": 2011, "ko": "화재", "en": "Fire"} in answer


def test_a_guide_comes_in_the_language_asked_for(client: TestClient[Litestar]) -> None:
    english = client.get("/public/guides/fire", params={"lang": "en"}).json()
    korean = client.get("/public/guides/fire").json()

    assert (english["lang"], english["title"]) == ("en", "Fire")
    assert (korean["lang"], korean["title"]) == ("ko", "화재")
    assert len(english["during"]) >= 3


def test_an_unknown_guide_is_404_naming_the_slug_and_an_unknown_language_is_400(client: TestClient[Litestar]) -> None:
    unknown = client.get("/public/guides/meteor_strike")
    french = client.get("/public/guides/fire", params={"lang": "fr"})

    assert unknown.status_code == 404
    assert "meteor_strike" in unknown.json()["title"]
    assert french.status_code == 400
