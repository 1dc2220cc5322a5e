"""Admins keep the expert pool over HTTP: add, change, retire; operators and the expert
themselves set availability; nobody reads a contact address back. A real community process."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from shared.settings import DatabaseSettings, NatsSettings
from tests.integration.services import service_process
from tests.integration.test_community_assembly import token

ADMIN, OPERATOR = token("admin", "root"), token("operator", "alice")


@pytest.fixture(scope="module")
def community(database: DatabaseSettings, nats_settings: NatsSettings) -> Iterator[httpx.Client]:
    with (
        service_process("community", database, nats_settings.url) as url,
        httpx.Client(base_url=url, timeout=10) as client,
    ):
        yield client


def newcomer(expert_id: str, **changes: Any) -> dict[str, Any]:
    return {
        "id": expert_id,
        "name": "(가상) 한새봄",
        "fields": ["flood", "structural"],
        "district_code": "11560",
        "lat": 37.5264,
        "lon": 126.8962,
        "languages": ["ko", "en"],
        "channels": [{"channel": "sms", "address": "010-0000-0999"}],
        "on_call": [{"weekdays": [0, 1, 2, 3, 4, 5, 6], "start": "00:00", "end": "00:00"}],
        "max_concurrent": 2,
        **changes,
    }


def test_the_seed_pool_is_there_and_shows_no_contact_address(community: httpx.Client) -> None:
    experts = community.get("/experts", params={"active": True}, headers=OPERATOR)
    assert experts.status_code == 200
    assert len(experts.json()) >= 73
    assert "010-" not in experts.text
    assert "900000" not in experts.text  # Telegram chat ids of the seed data
    assert {"telegram", "sms"} <= {c for e in experts.json() for c in e["channels"]}
    assert community.get("/experts").status_code == 401
    assert community.get("/experts", headers=token("expert", "EXP-001")).status_code == 403
    assert community.get("/experts/EXP-001", headers=token("expert", "EXP-001")).status_code == 200
    assert community.get("/experts/EXP-002", headers=token("expert", "EXP-001")).status_code == 403


def test_an_admin_adds_changes_and_retires_an_expert(community: httpx.Client) -> None:
    added = community.post("/experts", json=newcomer("EXP-T01"), headers=ADMIN)
    assert added.status_code == 201, added.text
    assert added.json()["fields"] == ["flood", "structural"]
    assert "0999" not in added.text
    assert community.post("/experts", json=newcomer("EXP-T01"), headers=ADMIN).status_code == 409
    assert community.post("/experts", json=newcomer("EXP-T02"), headers=OPERATOR).status_code == 403

    profile = {k: v for k, v in newcomer("EXP-T01", max_concurrent=4).items() if k != "id"}
    changed = community.put("/experts/EXP-T01", json=profile, headers=ADMIN)
    assert changed.status_code == 200, changed.text
    assert changed.json()["max_concurrent"] == 4

    retired = community.post("/experts/EXP-T01/retire", json={"reason": "moved to Busan"}, headers=ADMIN)
    assert retired.status_code == 200
    assert retired.json()["active"] is False
    assert community.put("/experts/EXP-T01", json=profile, headers=ADMIN).status_code == 409
    assert community.post("/experts/EXP-NONE/retire", json={}, headers=ADMIN).status_code == 404


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"fields": ["knitting"]}, "fields"),
        ({"district_code": "99999"}, "district_code"),
        ({"lat": 35.1}, "lat"),
        ({"channels": []}, "channels"),
        ({"on_call": [{"weekdays": [9], "start": "09:00", "end": "18:00"}]}, "on_call"),
        ({"on_call": [{"weekdays": [1], "start": "25:00", "end": "18:00"}]}, "start"),
        ({"max_concurrent": 0}, "max_concurrent"),
        ({"id": "not an id"}, "id"),
        ({"phone": "010-1234-5678"}, "phone"),
    ],
)
def test_a_bad_expert_is_refused_with_the_field_named(
    community: httpx.Client, changes: dict[str, Any], named: str
) -> None:
    refused = community.post("/experts", json=newcomer("EXP-T03", **changes), headers=ADMIN)
    assert refused.status_code == 400, refused.text
    assert named in refused.text
    assert community.get("/experts/EXP-T03", headers=ADMIN).status_code == 404  # nothing was recorded


def test_an_expert_sets_their_own_availability_and_nobody_elses(community: httpx.Client) -> None:
    me = token("expert", "EXP-002")
    away = community.put(
        "/experts/EXP-002/availability",
        json={"available": False, "until": "2099-01-01T09:00:00+09:00", "reason": "해외 출장"},
        headers=me,
    )
    assert away.status_code == 200, away.text
    assert away.json()["on_call_now"] is False
    assert away.json()["availability"]["reason"] == "해외 출장"
    assert community.put("/experts/EXP-003/availability", json={"available": False}, headers=me).status_code == 403
    past = community.put(
        "/experts/EXP-002/availability", json={"available": False, "until": "2020-01-01T00:00:00Z"}, headers=me
    )
    assert past.status_code == 409
    assert "until" in past.text
    back = community.delete("/experts/EXP-002/availability", headers=me)
    assert back.status_code == 200
    assert back.json()["availability"] is None
