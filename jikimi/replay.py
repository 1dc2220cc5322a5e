"""``jikimi replay``: the timeline rebuilt from zero from every service's event table, with a
progress bar and a final count, while the services go on running (``services/timeline/rebuild.py``)."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import TextIO

from jikimi.embedded.postgres import running_url
from jikimi.migrate import create_read_models
from services.timeline.rebuild import rebuild
from shared.services import SERVICES
from shared.settings import DatabaseSettings

__all__ = ["Bar", "database_url", "replay"]


def database_url(var_dir: Path) -> str:
    """``JIKIMI_DATABASE_URL``, else the embedded PostgreSQL a ``jikimi up`` runs in ``var_dir``."""
    if url := os.environ.get("JIKIMI_DATABASE_URL", ""):
        return url
    if url := running_url(var_dir / "pg") or "":
        return url
    msg = f"set JIKIMI_DATABASE_URL, or run `jikimi up --var {var_dir}` first"
    raise RuntimeError(msg)


class Bar:
    """One line per service, redrawn in place: ``intake  [#####-----]  52 %  104,000 / 200,000``."""

    def __init__(self, out: TextIO = sys.stderr, width: int = 30) -> None:
        self._out, self._width = out, width
        self._service = ""
        self._started = time.perf_counter()

    def __call__(self, service: str, read: int, total: int) -> None:
        if service != self._service:
            if self._service:
                self._out.write("\n")
            self._service, self._started = service, time.perf_counter()
        share = min(read / total, 1.0) if total else 1.0
        filled = round(share * self._width)
        elapsed = time.perf_counter() - self._started
        rate = f"  {read / elapsed:,.0f}/s" if elapsed > 0.05 else ""  # a log filed elsewhere comes at once
        self._out.write(
            f"\r{service:<10} [{'#' * filled}{'-' * (self._width - filled)}] {share:4.0%}"
            f"  {read:,} / {max(total, read):,} events{rate}"
        )
        self._out.flush()

    def done(self) -> None:
        if self._service:
            self._out.write("\n")


def replay(var_dir: Path, out: TextIO = sys.stdout) -> int:
    """Rebuild the timeline; print what was read and filed."""
    url = database_url(var_dir)
    create_read_models(DatabaseSettings(url))
    bar = Bar()
    rebuilt = rebuild(url, SERVICES, progress=bar)
    bar.done()
    for service, count in rebuilt.events.items():
        print(f"{service:<10} {count:>12,} events", file=out)
    print(
        f"replayed {rebuilt.total:,} events into {rebuilt.entries:,} timeline entries"
        f" in {rebuilt.seconds:.1f} s ({rebuilt.per_second:,.0f} events/s)",
        file=out,
    )
    return 0
