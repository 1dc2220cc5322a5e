"""The benchmark report: figures become one table and a JSON file with a stable schema."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from bench.figures import Figure, Goal, percentile
from bench.report import render_table, resolve, to_json, write_json

RAW_INSERTS = Figure(name="pg_batched_insert_rows_per_s", value=40_000.0, unit="rows/s")
RAW_PUBLISHES = Figure(name="js_publish_async_per_s", value=5_000.0, unit="msgs/s")
RELAY = Figure(
    name="relay_events_per_s",
    value=2_000.0,
    unit="events/s",
    limit_of=("js_publish_async_per_s",),
    goal=Goal(at_least=0.5, on_ratio=True),
)
CONSUMER = Figure(
    name="consumer_events_per_s",
    value=6_000.0,
    unit="events/s",
    limit_of=("pg_batched_insert_rows_per_s",),
    goal=Goal(at_least=5_000),
)
COMMIT = Figure(name="pg_commit_latency_p50_ms", value=0.5, unit="ms")
ROUND_TRIP = Figure(name="js_publish_rtt_p50_ms", value=0.25, unit="ms")
LATENCY = Figure(
    name="e2e_latency_p99_ms",
    value=30.0,
    unit="ms",
    limit_of=("pg_commit_latency_p50_ms", "js_publish_rtt_p50_ms"),
    goal=Goal(at_most=20),
)
FIGURES = [RAW_INSERTS, RAW_PUBLISHES, RELAY, CONSUMER, COMMIT, ROUND_TRIP, LATENCY]


def by_name(figures: list[Figure]) -> dict[str, dict[str, object]]:
    return {row["name"]: row for row in json.loads(to_json(resolve(figures)))}


def test_ratio_is_the_value_over_the_raw_limit_it_names() -> None:
    rows = by_name(FIGURES)
    assert rows["relay_events_per_s"]["limit"] == 5_000.0
    assert rows["relay_events_per_s"]["ratio"] == pytest.approx(0.4)
    assert rows["consumer_events_per_s"]["ratio"] == pytest.approx(0.15)


def test_a_limit_of_several_figures_is_their_sum() -> None:
    row = by_name(FIGURES)["e2e_latency_p99_ms"]
    assert row["limit"] == pytest.approx(0.75)
    assert row["ratio"] == pytest.approx(40.0)


def test_json_is_a_list_of_objects_with_the_stable_keys_in_run_order() -> None:
    document = json.loads(to_json(resolve(FIGURES)))
    assert [row["name"] for row in document] == [f.name for f in FIGURES]
    assert all(list(row) == ["name", "value", "unit", "limit", "ratio"] for row in document)


def test_a_figure_without_limit_has_null_limit_and_ratio() -> None:
    row = by_name(FIGURES)["pg_batched_insert_rows_per_s"]
    assert row == {
        "name": "pg_batched_insert_rows_per_s",
        "value": 40_000.0,
        "unit": "rows/s",
        "limit": None,
        "ratio": None,
    }


def test_a_limit_not_measured_in_this_run_leaves_limit_and_ratio_null() -> None:
    row = by_name([RELAY])["relay_events_per_s"]
    assert row["limit"] is None
    assert row["ratio"] is None


def test_a_value_that_could_not_be_measured_is_written_as_null() -> None:
    row = by_name([Figure(name="e2e_latency_p50_ms", value=math.nan, unit="ms")])["e2e_latency_p50_ms"]
    assert row["value"] is None


def test_goals_on_value_and_on_ratio_are_judged() -> None:
    met = {row.figure.name: row.goal_met for row in resolve(FIGURES)}
    assert met["relay_events_per_s"] is False  # 40% of the raw publish rate, 50% wanted
    assert met["consumer_events_per_s"] is True
    assert met["e2e_latency_p99_ms"] is False
    assert met["pg_batched_insert_rows_per_s"] is None


def test_table_has_a_header_and_one_line_per_figure_with_limit_ratio_and_goal() -> None:
    lines = render_table(resolve(FIGURES)).splitlines()
    assert lines[0].split() == ["name", "value", "unit", "limit", "limit", "is", "ratio", "goal", "met"]
    assert len(lines) == 2 + len(FIGURES)
    relay = next(line for line in lines if line.startswith("relay_events_per_s"))
    assert "2,000" in relay
    assert "5,000" in relay
    assert "js_publish_async_per_s" in relay
    assert "0.40" in relay
    assert "≥ 50% of limit" in relay
    assert relay.rstrip().endswith("NO")
    latency = next(line for line in lines if line.startswith("e2e_latency_p99_ms"))
    assert "pg_commit_latency_p50_ms + js_publish_rtt_p50_ms" in latency
    assert "≤ 20 ms" in latency


def test_json_file_is_written_where_asked(tmp_path: Path) -> None:
    target = tmp_path / "results" / "latest.json"
    write_json(resolve(FIGURES), target)
    assert len(json.loads(target.read_text())) == len(FIGURES)


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50.0
    assert percentile(values, 99) == 99.0
    assert percentile([3.0], 99) == 3.0
    assert math.isnan(percentile([], 50))
