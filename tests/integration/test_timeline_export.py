"""An analyst exports an incident's timeline, or the incidents opened in a date range, as JSON
Lines, CSV and Parquet, from the API and from ``jikimi export``: the files hold the rows of the
timeline, each export is on record (and on the incident's timeline) before its first byte, and
only analysts get one. Intake, community, broadcast and timeline as real processes."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import httpx
import psycopg
import pyarrow.parquet as pq
import pytest

from services.timeline.export import COLUMNS
from shared.events import CODEC
from shared.events.common import Actor
from shared.events.timeline import TimelineExported
from shared.settings import DatabaseSettings, NatsSettings
from tests.integration.pipeline import service_app
from tests.integration.services import ROOT, all_services
from tests.integration.test_community_assembly import token
from tests.integration.test_rooms import Reported, report
from tests.integration.test_timeline import whole_timeline

ANALYST = token("analyst", "ann")
SAID = '2층 계단, "진입" 가능\n=SUM(A1)'
EXPORTED = "timeline.exported"


@pytest.fixture(scope="module")
def four(database: DatabaseSettings, nats_settings: NatsSettings) -> Iterator[dict[str, str]]:
    with all_services(database, nats_settings.url) as urls:
        yield urls


@pytest.fixture(scope="module")
def fire(four: dict[str, str], database: DatabaseSettings) -> Reported:
    """A fire reported in Eunpyeong, its community assembled, and an operator's room message
    with a comma, quotes, a newline and a formula in it."""
    reported = report(
        four["intake"],
        service_app("community", database),
        "은평구 연신내역 앞 상가 2층에서 불이 났어요",
        (37.6190, 126.9210),
    )
    with httpx.Client(base_url=four["community"], timeout=10) as community:
        posted = community.post(
            f"/communities/{reported.incident_id}/room/messages",
            json={"text": SAID},
            headers=token("operator", "alice"),
        )
        assert posted.status_code == 201
    return reported


@pytest.fixture(scope="module")
def later_fire(fire: Reported, four: dict[str, str], database: DatabaseSettings) -> Reported:
    """Another incident, opened after the first, far from it."""
    return report(
        four["intake"],
        service_app("community", database),
        "강남역 11번 출구 앞 건물에서 불이 났어요",
        (37.4979, 127.0276),
    )


def settled(client: httpx.Client, incident_id: UUID, *, until: set[str], exports: int = 0) -> list[dict[str, Any]]:
    """Every entry (events included) once the timeline holds each type in ``until`` and at
    least ``exports`` exports, and stopped growing."""
    deadline, last = time.monotonic() + 30, -1
    while time.monotonic() < deadline:
        entries = whole_timeline(client, incident_id, limit=1000, include="event")
        types = [e["type"] for e in entries]
        if until <= set(types) and types.count(EXPORTED) >= exports and len(entries) == last:
            return entries
        last = len(entries)
        time.sleep(0.5)
    raise AssertionError(f"the timeline did not settle: {sorted({e['type'] for e in entries})}")


def rows_of(fmt: str, content: bytes) -> list[dict[str, Any]]:
    """An export's rows, every value as its type (times as datetimes, numbers as ints)."""
    if fmt == "parquet":
        return pq.read_table(io.BytesIO(content)).to_pylist()
    if fmt == "jsonl":
        rows = [json.loads(line) for line in content.decode().splitlines()]
    else:
        rows = list(csv.DictReader(io.StringIO(content.decode("utf-8"), newline="")))
        assert all(list(row) == list(COLUMNS) for row in rows)
    for row in rows:
        row["occurred_at"], row["recorded_at"] = map(datetime.fromisoformat, (row["occurred_at"], row["recorded_at"]))
        row["position"], row["stream_version"] = int(row["position"]), int(row["stream_version"])
    return rows


def as_rows(incident_id: UUID, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Timeline entries (with their events) as an export's rows; ``event`` decoded."""
    return [
        {
            "incident_id": str(incident_id),
            "service": e["service"],
            "position": e["position"],
            "type": e["type"],
            "occurred_at": datetime.fromisoformat(e["occurred_at"]),
            "recorded_at": datetime.fromisoformat(e["recorded_at"]),
            "actor": e["actor"],
            "summary": e["summary"],
            "stream_id": e["stream_id"],
            "stream_version": e["stream_version"],
            "event": e["event"],
        }
        for e in entries
    ]


def decoded(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**row, "event": json.loads(row["event"])} for row in rows]


def before(rows: list[dict[str, Any]], cut: datetime) -> list[dict[str, Any]]:
    return [row for row in rows if row["recorded_at"] < cut]


def audits(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in entries if e["type"] == EXPORTED]


def test_an_analyst_exports_an_incident_in_each_format_and_gets_the_rows_of_its_timeline(
    four: dict[str, str], fire: Reported
) -> None:
    with httpx.Client(base_url=four["timeline"], timeout=30) as timeline:
        now = settled(timeline, fire.incident_id, until={"community.message_posted", "community.member_invited"})
        exports_so_far = len(audits(now))
        exported: dict[str, list[dict[str, Any]]] = {}
        for fmt, media_type in (
            ("jsonl", "application/jsonl"),
            ("csv", "text/csv"),
            ("parquet", "application/vnd.apache.parquet"),
        ):
            answer = timeline.get(f"/incidents/{fire.incident_id}/export", params={"format": fmt}, headers=ANALYST)
            assert answer.status_code == 200, answer.text
            assert answer.headers["content-type"].startswith(media_type)
            assert answer.headers["content-disposition"] == (
                f'attachment; filename="jikimi-timeline-{fire.incident_id}.{fmt}"'
            )
            exported[fmt] = decoded(rows_of(fmt, answer.content))
            exports_so_far += 1
            # On record, and on the incident's timeline, before the next export reads it.
            now = settled(timeline, fire.incident_id, until=set(), exports=exports_so_far)

        timeline_rows = as_rows(fire.incident_id, now)
        for fmt, audit in zip(exported, audits(now)[-3:], strict=True):
            assert audit["actor"] == "analyst:ann"
            assert f"as {fmt} by analyst:ann" in audit["summary"]
            assert audit["event"]["incident_id"] == str(fire.incident_id)
            # The export holds every entry recorded before it was, in the timeline's order.
            assert exported[fmt] == before(timeline_rows, datetime.fromisoformat(audit["recorded_at"]))
        # Each later export holds what the first did (and the exports since): the same rows in any format.
        first_cut = datetime.fromisoformat(audits(now)[-3]["recorded_at"])
        assert before(exported["csv"], first_cut) == before(exported["parquet"], first_cut) == exported["jsonl"]
        [posted] = [row for row in exported["csv"] if row["type"] == "community.message_posted"]
        assert posted["event"]["text"] == SAID
        assert posted["actor"] == "operator:alice"


def test_a_date_range_export_holds_the_incidents_opened_in_it_and_no_other(
    four: dict[str, str], fire: Reported, later_fire: Reported, database: DatabaseSettings
) -> None:
    with httpx.Client(base_url=four["timeline"], timeout=30) as timeline:
        first = settled(timeline, fire.incident_id, until={"community.message_posted"})
        second = settled(timeline, later_fire.incident_id, until={"community.member_invited"})
        [opened] = [e for e in first if e["type"] == "intake.incident_opened"]
        [later_opened] = [e for e in second if e["type"] == "intake.incident_opened"]
        start = datetime.fromisoformat(opened["occurred_at"])
        assert datetime.fromisoformat(later_opened["occurred_at"]) > start
        between = start + timedelta(microseconds=1)  # after the first opened, before the second

        def export(since: datetime, until: datetime) -> tuple[list[dict[str, Any]], datetime]:
            """The rows of an export of [since, until), and when it was recorded."""
            params = {"from": since.isoformat(), "to": until.isoformat(), "format": "parquet"}
            answer = timeline.get("/exports", params=params, headers=ANALYST)
            assert answer.status_code == 200, answer.text
            assert answer.headers["content-disposition"].startswith('attachment; filename="jikimi-timelines-')
            [*_, recorded] = recorded_exports(database)
            assert (recorded.scope, recorded.range_from, recorded.range_to) == ("range", since, until)
            return decoded(rows_of("parquet", answer.content)), recorded.recorded_at

        only_first, _ = export(start, between)
        assert {row["incident_id"] for row in only_first} == {str(fire.incident_id)}
        only_second, _ = export(between, between + timedelta(days=1))
        assert {row["incident_id"] for row in only_second} == {str(later_fire.incident_id)}
        both, cut = export(start - timedelta(hours=1), start + timedelta(days=1))
        # Grouped by incident in the order they opened, each in the timeline's order.
        expected = [
            *before(
                as_rows(fire.incident_id, whole_timeline(timeline, fire.incident_id, limit=1000, include="event")), cut
            ),
            *before(
                as_rows(
                    later_fire.incident_id,
                    whole_timeline(timeline, later_fire.incident_id, limit=1000, include="event"),
                ),
                cut,
            ),
        ]
        assert both == expected
        assert export(start - timedelta(days=3), start - timedelta(days=2))[0] == []

    ranges = [e for e in recorded_exports(database) if e.scope == "range"]
    assert len(ranges) >= 4
    # A range export names no incident: it is on record, on no incident's timeline.
    assert all(e.incident_id is None and e.by == Actor("analyst", "ann") and e.via == "api" for e in ranges)


def recorded_exports(database: DatabaseSettings) -> list[TimelineExported]:
    """The exports in the timeline's own log, in order."""
    with psycopg.connect(database.url) as conn:
        states = conn.execute("SELECT state FROM timeline_events ORDER BY notification_id").fetchall()
    events = [CODEC.decode(state) for (state,) in states]
    return [e for e in events if isinstance(e, TimelineExported)]


def test_only_analysts_export_and_bad_questions_get_clear_answers_with_nothing_recorded(
    four: dict[str, str], fire: Reported, database: DatabaseSettings
) -> None:
    path = f"/incidents/{fire.incident_id}/export"
    recorded = len(recorded_exports(database))
    with httpx.Client(base_url=four["timeline"], timeout=10) as timeline:
        assert timeline.get(path).status_code == 401
        assert timeline.get(path, headers=token("operator", "alice")).status_code == 403
        assert timeline.get("/exports", headers=token("operator", "alice")).status_code == 403
        assert timeline.get(f"/incidents/{uuid4()}/export", headers=ANALYST).status_code == 404

        def refused(url: str, field: str, **params: str) -> None:
            answer = timeline.get(url, params=params, headers=ANALYST)
            assert answer.status_code == 400, answer.text
            problem = answer.json()
            named = {e["field"] for e in problem.get("errors", [])} | {problem["detail"].partition(":")[0]}
            assert field in named or f"'{field}'" in problem["detail"], answer.text

        good = {"from": "2026-11-01T00:00:00+09:00", "to": "2026-11-08T00:00:00+09:00"}
        refused(path, "format", format="xlsx")
        refused("/exports", "format", **good, format="xlsx")
        refused("/exports", "from", **{**good, "from": "2026-11-01T00:00:00"})
        refused("/exports", "to", **{**good, "to": "next week"})
        refused("/exports", "to", **{**good, "to": good["from"]})
        refused("/exports", "to", **{**good, "to": "2026-12-15T00:00:00+09:00"})
        refused("/exports", "to", **{"from": good["from"]})
        # An unencoded "+" arrives as a space and still reads as the offset.
        plus = timeline.get(
            "/exports?from=2026-11-01T00:00:00+09:00&to=2026-11-02T00:00:00+09:00&format=csv", headers=ANALYST
        )
        assert plus.status_code == 200, plus.text
        assert plus.content.decode().splitlines() == [",".join(COLUMNS)]
    assert len(recorded_exports(database)) == recorded + 1  # the refused ones left no trace


def jikimi_export(database: DatabaseSettings, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "jikimi", "export", *args],
        env={**os.environ, "JIKIMI_DATABASE_URL": database.url},
        cwd=ROOT,
        capture_output=True,
        timeout=120,
        check=False,
    )


def test_jikimi_export_writes_the_same_rows_as_the_api_and_is_on_record_too(
    four: dict[str, str], fire: Reported, later_fire: Reported, database: DatabaseSettings, tmp_path: Path
) -> None:
    with httpx.Client(base_url=four["timeline"], timeout=30) as timeline:
        now = settled(timeline, fire.incident_id, until={"community.message_posted"})
        answer = timeline.get(f"/incidents/{fire.incident_id}/export", params={"format": "csv"}, headers=ANALYST)
        assert answer.status_code == 200
        from_api = decoded(rows_of("csv", answer.content))
        api_cut = recorded_exports(database)[-1].recorded_at
        now = settled(timeline, fire.incident_id, until=set(), exports=len(audits(now)) + 1)

        out = tmp_path / "fire.parquet"
        written = jikimi_export(database, "--incident", str(fire.incident_id), "--format", "parquet", "--out", str(out))
        assert written.returncode == 0, written.stderr
        assert b"exported" in written.stderr
        assert not out.with_name("fire.parquet.partial").exists()
        from_cli = decoded(rows_of("parquet", out.read_bytes()))
        # The CLI's export came later: what the API's held, then what was recorded since (the API's export first).
        assert before(from_cli, api_cut) == from_api
        assert any(row["type"] == EXPORTED and row["recorded_at"] == api_cut for row in from_cli)

        now = settled(timeline, fire.incident_id, until=set(), exports=len(audits(now)) + 1)
        cli_audit = audits(now)[-1]
        assert cli_audit["event"]["via"] == "cli"
        assert cli_audit["actor"].startswith("analyst:")
        assert from_cli == before(as_rows(fire.incident_id, now), datetime.fromisoformat(cli_audit["recorded_at"]))

        [opened] = [e for e in now if e["type"] == "intake.incident_opened"]
        start = datetime.fromisoformat(opened["occurred_at"])
        params = {"from": (start - timedelta(hours=1)).isoformat(), "to": (start + timedelta(days=1)).isoformat()}
        api_range = timeline.get("/exports", params={**params, "format": "jsonl"}, headers=ANALYST)
        assert api_range.status_code == 200
        api_range_cut = recorded_exports(database)[-1].recorded_at
    cli_range = jikimi_export(database, "--from", params["from"], "--to", params["to"], "--format", "jsonl")
    assert cli_range.returncode == 0, cli_range.stderr

    def incidents(rows: list[dict[str, Any]]) -> list[str]:
        return list(dict.fromkeys(row["incident_id"] for row in rows))

    api_rows, cli_rows = rows_of("jsonl", api_range.content), rows_of("jsonl", cli_range.stdout)
    assert incidents(cli_rows) == incidents(api_rows) == [str(fire.incident_id), str(later_fire.incident_id)]
    assert before(cli_rows, api_range_cut) == api_rows

    unknown = jikimi_export(database, "--incident", str(uuid4()), "--format", "csv")
    assert unknown.returncode == 1
    assert b"no incident" in unknown.stderr
    to_stdout = jikimi_export(database, "--incident", str(fire.incident_id), "--format", "parquet")
    assert to_stdout.returncode == 2
    assert b"--out" in to_stdout.stderr
    too_long = jikimi_export(database, "--from", "2026-11-01", "--to", "2026-12-15", "--format", "csv")
    assert too_long.returncode == 2
    assert b"--to" in too_long.stderr
