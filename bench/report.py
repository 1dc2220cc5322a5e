"""The benchmark report: one table for people, one JSON file with a stable schema for tools.

The JSON file is a list of ``{"name", "value", "unit", "limit", "ratio"}`` objects; ``limit``
and ``ratio`` are null when a figure has no limit (or its limit was not measured in this run).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import msgspec

from bench.figures import Figure

__all__ = ["ResultRow", "Row", "format_number", "render_table", "resolve", "to_json", "write_json"]


class ResultRow(msgspec.Struct, frozen=True):
    """One object of ``latest.json``: the stable schema."""

    name: str
    value: float
    unit: str
    limit: float | None
    ratio: float | None


class Row(msgspec.Struct, frozen=True, kw_only=True):
    """A figure with its limit resolved against the other figures of the same run."""

    figure: Figure
    limit: float | None
    ratio: float | None
    goal_met: bool | None

    def result(self) -> ResultRow:
        f = self.figure
        return ResultRow(name=f.name, value=f.value, unit=f.unit, limit=self.limit, ratio=self.ratio)


def resolve(figures: Sequence[Figure]) -> list[Row]:
    """Each figure's limit (the sum of the figures it names), ratio (value / limit) and goal."""
    by_name = {f.name: f.value for f in figures}
    rows = []
    for figure in figures:
        limit: float | None = None
        if figure.limit_of and all(name in by_name for name in figure.limit_of):
            limit = sum(by_name[name] for name in figure.limit_of)
        ratio = figure.value / limit if limit and math.isfinite(limit) and math.isfinite(figure.value) else None
        goal_met = figure.goal.is_met(figure.value, ratio) if figure.goal else None
        rows.append(Row(figure=figure, limit=limit, ratio=ratio, goal_met=goal_met))
    return rows


def format_number(value: float | None) -> str:
    """Thousands separators for big numbers, two significant decimals for small ones."""
    if value is None:
        return "—"
    if not math.isfinite(value):
        return "n/a"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


_HEADER = ("name", "value", "unit", "limit", "limit is", "ratio", "goal", "met")
_RIGHT_ALIGNED = {"value", "limit", "ratio"}


def render_table(rows: Sequence[Row]) -> str:
    """A plain-text table, one line per figure."""
    cells = [_HEADER]
    for row in rows:
        f = row.figure
        met = {True: "yes", False: "NO", None: ""}[row.goal_met]
        cells.append(
            (
                f.name,
                format_number(f.value),
                f.unit,
                format_number(row.limit),
                " + ".join(f.limit_of) or "—",
                format_number(row.ratio),
                f.goal.describe(f.unit) if f.goal else "",
                met,
            )
        )
    widths = [max(len(line[i]) for line in cells) for i in range(len(_HEADER))]
    lines = []
    for line in cells:
        padded = [
            cell.rjust(width) if name in _RIGHT_ALIGNED else cell.ljust(width)
            for name, cell, width in zip(_HEADER, line, widths, strict=True)
        ]
        lines.append("  ".join(padded).rstrip())
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def to_json(rows: Sequence[Row]) -> bytes:
    """The stable JSON document: a list of result objects (msgspec writes NaN, which JSON lacks, as null)."""
    return msgspec.json.format(msgspec.json.encode([row.result() for row in rows]), indent=2) + b"\n"


def write_json(rows: Sequence[Row], path: Path) -> None:
    """Write :func:`to_json` to ``path`` (its folder is created if missing)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(to_json(rows))
