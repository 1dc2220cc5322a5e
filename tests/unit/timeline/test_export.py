"""An analyst's export reads back as the same rows whichever format they chose and whatever they
open it with (Python's csv and json, pyarrow, pandas, DuckDB): citizens' Korean words, quotes,
commas and newlines intact, times in UTC, and nothing a spreadsheet would run as a formula."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from services.timeline.entries import Entry, Filing
from services.timeline.export import (
    COLUMNS,
    FORMATS,
    PARQUET_SCHEMA,
    ExportRangeError,
    check_range,
    encoded,
    encoder_for,
    filename_for,
    write,
)
from services.timeline.summary import summarize
from shared.events import CODEC, Event, encode
from shared.events.common import Actor
from shared.events.community import MessagePosted
from shared.events.intake import IncidentOpened, ReportLinked, ReportReceived

T0 = datetime(2026, 11, 25, 5, 0, 0, 123456, tzinfo=UTC)
SAID = '강남역 2층에서 불이 났어요, "연기"가 많아요\n=HYPERLINK("http://x.example","여기")'
FORMULA_AUTHOR = "=1+2"  # an actor a spreadsheet would compute


def story(incident: UUID) -> list[Entry]:
    """A report (its text Korean, with a quote, a comma, a newline and a formula), the incident
    it opened, its link, and a room message from an author who looks like a formula."""
    report = uuid4()
    events: list[Event] = [
        ReportReceived(
            originator_id=report,
            originator_version=1,
            channel="kakao",
            sender="p_7f3a",
            channel_message_id="m1",
            receipt="R-1",
            text=SAID,
            occurred_at=T0,
            recorded_at=T0 + timedelta(milliseconds=5),
        ),
        IncidentOpened(
            originator_id=incident,
            originator_version=1,
            incident_id=incident,
            disaster_type="fire",
            severity="severe",
            title="강남역 상가 화재",
            occurred_at=T0 + timedelta(seconds=1),
            recorded_at=T0 + timedelta(seconds=1),
        ),
        ReportLinked(
            originator_id=report,
            originator_version=2,
            incident_id=incident,
            report_id=report,
            reporter="p_7f3a",
            by=Actor("system", "intake"),
            occurred_at=T0 + timedelta(seconds=2),
            recorded_at=T0 + timedelta(seconds=2),
        ),
        MessagePosted(
            originator_id=uuid4(),
            originator_version=1,
            incident_id=incident,
            author=FORMULA_AUTHOR,
            text="2층 계단, 진입 가능",
            audience=["operator:alice"],
            occurred_at=T0 + timedelta(seconds=3),
            recorded_at=T0 + timedelta(seconds=3),
        ),
    ]
    filing, entries = Filing(), []
    for position, event in enumerate(events, start=1):
        entries += [e for e in filing.file(encode(event), "intake", position) if e.incident_id == incident]
    return sorted(entries, key=lambda e: (e.recorded_at, e.service, e.position))


def expected(entries: list[Entry]) -> list[dict[str, Any]]:
    return [
        {
            "incident_id": str(e.incident_id),
            "service": e.service,
            "position": e.position,
            "type": e.type,
            "occurred_at": e.occurred_at,
            "recorded_at": e.recorded_at,
            "actor": e.actor,
            "summary": summarize(CODEC.decode(e.event)),
            "stream_id": str(e.originator_id),
            "stream_version": e.originator_version,
            "event": e.event.decode(),
        }
        for e in entries
    ]


@pytest.fixture
def entries() -> list[Entry]:
    return story(uuid4())


@pytest.fixture
def files(entries: list[Entry], tmp_path: Path) -> dict[str, Path]:
    paths = {fmt: tmp_path / f"export.{fmt}" for fmt in FORMATS}
    for fmt, path in paths.items():
        with path.open("wb") as out:
            write(entries, fmt, out, chunk=2)
    return paths


def test_json_lines_carry_every_column_in_utc_with_the_event_as_stored(
    entries: list[Entry], files: dict[str, Path]
) -> None:
    lines = files["jsonl"].read_bytes().decode().splitlines()
    rows = [json.loads(line) for line in lines]

    assert [list(row) for row in rows] == [list(COLUMNS)] * len(entries)
    assert [
        {
            **row,
            "occurred_at": datetime.fromisoformat(row["occurred_at"]),
            "recorded_at": datetime.fromisoformat(row["recorded_at"]),
        }
        for row in rows
    ] == expected(entries)
    assert all(row["recorded_at"].endswith("+00:00") for row in rows)
    [received] = [row for row in rows if row["type"] == "intake.report_received"]
    assert json.loads(received["event"])["text"] == SAID
    assert "강남역" in files["jsonl"].read_text(encoding="utf-8")  # Korean as itself, not \ud55c escapes


def test_csv_reads_back_as_the_same_rows_with_a_header_and_crlf_and_the_texts_intact(
    entries: list[Entry], files: dict[str, Path]
) -> None:
    raw = files["csv"].read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")  # no byte-order mark: pandas would read it into the first name
    header, *rows = list(csv.reader(io.StringIO(raw.decode("utf-8"), newline="")))

    assert tuple(header) == COLUMNS
    assert raw.count(b"\r\n") == len(entries) + 1
    wanted = expected(entries)
    assert len(rows) == len(wanted)
    for row, want in zip(rows, wanted, strict=True):
        as_read = dict(zip(COLUMNS, row, strict=True))
        assert datetime.fromisoformat(as_read.pop("occurred_at")) == want.pop("occurred_at")
        assert datetime.fromisoformat(as_read.pop("recorded_at")) == want.pop("recorded_at")
        if want["actor"] == FORMULA_AUTHOR:
            want["actor"] = "'" + FORMULA_AUTHOR
        assert as_read == {k: str(v) for k, v in want.items()}
    [received] = [dict(zip(COLUMNS, r, strict=True)) for r in rows if r[3] == "intake.report_received"]
    assert json.loads(received["event"])["text"] == SAID


def test_a_cell_a_spreadsheet_would_run_is_defused_in_csv_and_left_as_it_is_elsewhere(
    files: dict[str, Path],
) -> None:
    rows = list(csv.DictReader(files["csv"].open(encoding="utf-8", newline="")))
    actors = {row["actor"] for row in rows}
    assert "'=1+2" in actors
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row.values())
    json_actors = {json.loads(line)["actor"] for line in files["jsonl"].read_text().splitlines()}
    assert FORMULA_AUTHOR in json_actors  # data formats keep the value exact


def test_parquet_has_one_schema_with_utc_microsecond_times_written_in_row_groups(entries: list[Entry]) -> None:
    out = io.BytesIO()
    for piece in encoded(entries, "parquet"):
        out.write(piece)
    small = io.BytesIO()
    encoder = encoder_for("parquet", row_group=2)
    small.write(encoder.start() + encoder.encode(entries[:1]) + encoder.encode(entries[1:]) + encoder.finish())

    table = pq.read_table(io.BytesIO(out.getvalue()))
    assert table.schema == PARQUET_SCHEMA
    assert table.schema.field("recorded_at").type == pa.timestamp("us", tz="UTC")
    assert table.to_pylist() == expected(entries)
    grouped = pq.ParquetFile(io.BytesIO(small.getvalue()))
    assert len(entries) == 4
    assert grouped.metadata.num_row_groups == 2  # groups of 2, whatever the chunks written
    assert grouped.read().to_pylist() == expected(entries)


def test_pandas_reads_the_three_formats_as_the_same_frame(entries: list[Entry], files: dict[str, Path]) -> None:
    from_parquet = pd.read_parquet(files["parquet"])
    from_json = pd.read_json(files["jsonl"], lines=True, dtype={"incident_id": str, "stream_id": str})
    from_csv = pd.read_csv(files["csv"], parse_dates=["occurred_at", "recorded_at"])
    from_csv["actor"] = from_csv["actor"].str.removeprefix("'")  # the one defused cell

    assert list(from_parquet.columns) == list(COLUMNS)
    assert str(from_parquet["recorded_at"].dtype) == "datetime64[us, UTC]"
    pd.testing.assert_frame_equal(from_json, from_parquet, check_dtype=True)
    pd.testing.assert_frame_equal(from_csv, from_parquet, check_dtype=True)
    assert from_parquet.to_dict("records") == [
        {**row, "occurred_at": pd.Timestamp(row["occurred_at"]), "recorded_at": pd.Timestamp(row["recorded_at"])}
        for row in expected(entries)
    ]


def test_duckdb_reads_the_three_formats_as_the_same_rows_and_types(files: dict[str, Path]) -> None:
    def rows(source: str, path: Path, select: str = "*") -> tuple[list[str], list[tuple[Any, ...]]]:
        query = f"select {select} from {source}('{path}') order by recorded_at, service, position"  # noqa: S608 -- our own files
        relation = duckdb.sql(query)
        # DuckDB's JSON reader guesses UUID for the id columns; as text they are the same ids.
        return [str(t) for t in relation.types], [
            tuple(str(v) if isinstance(v, UUID) else v for v in row) for row in relation.fetchall()
        ]

    parquet_types, from_parquet = rows("read_parquet", files["parquet"])
    csv_types, from_csv = rows("read_csv_auto", files["csv"], "* replace (ltrim(actor, '''') as actor)")
    json_types, from_json = rows("read_json_auto", files["jsonl"])

    assert parquet_types == csv_types
    assert [("VARCHAR" if t == "UUID" else t) for t in json_types] == parquet_types
    assert parquet_types[4:6] == ["TIMESTAMP WITH TIME ZONE"] * 2
    assert from_parquet == from_csv == from_json
    assert any(SAID in json.loads(row[-1]).get("text", "") for row in from_parquet)


def test_a_date_range_is_refused_naming_the_bound_at_fault() -> None:
    start = datetime(2026, 11, 1, tzinfo=UTC)
    check_range(start, start + timedelta(days=31))
    with pytest.raises(ExportRangeError) as naive:
        check_range(datetime(2026, 11, 1), start + timedelta(days=1))  # a naive time: the point
    assert naive.value.field == "from"
    with pytest.raises(ExportRangeError) as backwards:
        check_range(start, start)
    assert backwards.value.field == "to"
    with pytest.raises(ExportRangeError) as too_long:
        check_range(start, start + timedelta(days=31, seconds=1))
    assert too_long.value.field == "to"
    assert "31 days" in str(too_long.value)


def test_the_file_name_says_what_the_export_holds() -> None:
    incident = uuid4()
    assert filename_for("csv", incident_id=incident) == f"jikimi-timeline-{incident}.csv"
    start = datetime(2026, 11, 1, tzinfo=UTC)
    assert filename_for("parquet", since=start, until=start + timedelta(days=30)) == (
        "jikimi-timelines-20261101-20261201.parquet"
    )
