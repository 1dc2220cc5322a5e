"""``python -m bench``: start the servers, run every benchmark, print one table, write latest.json."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import tempfile
import time
import traceback
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from bench.figures import Benchmark, Context, Figure, Sizes
from bench.registry import BENCHMARKS
from bench.report import render_table, resolve, write_json
from bench.servers import bench_servers
from shared.logging import configure_logging

DEFAULT_OUTPUT = Path(__file__).parent / "results" / "latest.json"


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller sizes: a run of about 30 s")
    parser.add_argument(
        "--only", action="append", default=[], metavar="TEXT", help="run the benchmarks whose name contains TEXT"
    )
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="where to write the JSON results")
    parser.add_argument(
        "--embedded-postgres", action="store_true", help="use an embedded PostgreSQL (pgserver) even if one answers"
    )
    parser.add_argument("--check", action="store_true", help="exit with 1 when a figure misses its goal")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    return parser.parse_args(argv)


def _note(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


async def _run_all(ctx: Context, benchmarks: Sequence[Benchmark]) -> tuple[list[Figure], list[str]]:
    """Every benchmark in turn; one that fails is reported and the others still run."""
    figures: list[Figure] = []
    failed: list[str] = []
    for benchmark in benchmarks:
        name = benchmark.__name__
        _note(f"{name} …")
        start = time.perf_counter()
        try:
            figures.extend(await benchmark(ctx))
        except Exception:  # reported; the rest of the run is still worth having
            failed.append(name)
            _note(f"{name} failed:\n{traceback.format_exc()}")
            continue
        _note(f"{name} done in {time.perf_counter() - start:.1f} s")
    return figures, failed


def _interrupt(signum: int, _: FrameType | None) -> None:
    # SIGTERM as Ctrl-C: unwind through every finally, so servers stop and the database is dropped.
    raise KeyboardInterrupt(signal.Signals(signum).name)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse(argv)
    if args.list:
        print("\n".join(b.__name__ for b in BENCHMARKS))
        return 0
    configure_logging("warning", json=False)
    signal.signal(signal.SIGTERM, _interrupt)
    sizes = Sizes.quick() if args.quick else Sizes()
    selected = [b for b in BENCHMARKS if not args.only or any(text in b.__name__ for text in args.only)]
    started = time.perf_counter()
    with (
        tempfile.TemporaryDirectory(prefix="jikimi-bench-") as workdir,
        bench_servers(Path(workdir), embedded_postgres=args.embedded_postgres) as servers,
    ):
        _note(
            f"PostgreSQL from {servers.origin}, database {servers.database.url.rpartition('/')[2]}; "
            f"nats-server {servers.nats.url} (sync always)"
        )
        figures, failed = asyncio.run(_run_all(Context(servers.database, servers.nats, sizes), selected))
    rows = resolve(figures)
    print(render_table(rows))
    write_json(rows, args.output)
    _note(f"{len(rows)} figures in {time.perf_counter() - started:.0f} s; written to {args.output}")
    if failed:
        _note(f"failed: {', '.join(failed)}")
        return 1
    if args.check and any(row.goal_met is False for row in rows):
        return 1
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        _note("interrupted; servers stopped, scratch database dropped")
        sys.exit(130)
