"""PostgreSQL from ``pgserver`` (an optional wheel), and the durability check for any server."""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import signal
import subprocess
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self
from urllib.parse import quote

import psycopg

from jikimi.embedded.processes import EmbeddedError, process_is_alive, wait_gone

__all__ = ["PostgresProcess", "check_postgres_durability", "running_url"]

_DURABILITY_SETTINGS = ("fsync", "synchronous_commit", "full_page_writes")


@dataclass
class PostgresProcess:
    """A PostgreSQL from ``pgserver`` on a data folder, listening on a unix socket only.

    The postmaster is detached by ``pg_ctl``, so it is not our child: :meth:`stop` stops it by
    its data folder and PID, as pgserver's own "last client stops it" tracking is unreliable."""

    data_dir: Path
    pid: int
    socket_dir: Path
    system_user: str | None
    log_file: Path

    @property
    def url(self) -> str:
        """A libpq URL over the unix socket, as user ``postgres`` (trust auth), database ``postgres``."""
        return f"postgresql://postgres@/postgres?host={quote(str(self.socket_dir), safe='/')}"

    @classmethod
    def start(cls, data_dir: Path) -> PostgresProcess:
        """Start (initialising if new) the server on ``data_dir`` and return once it accepts connections."""
        pgserver = _import_pgserver()
        data_dir = data_dir.resolve()
        data_dir.parent.mkdir(parents=True, exist_ok=True)
        info = pgserver.utils.PostmasterInfo.read_from_pgdata(data_dir) if data_dir.exists() else None
        if info is not None and info.is_running():
            msg = (
                f"a PostgreSQL server (pid {info.pid}) is already running on {data_dir}: probably a stale server "
                f"from an earlier run; stop it (`jikimi down` or `kill {info.pid}`) first"
            )
            raise EmbeddedError(msg)
        server = pgserver.get_server(data_dir, cleanup_mode=None)
        # pgserver caches one handle per folder and counts client PIDs to stop the server at exit;
        # we stop it ourselves, so forget the handle (a later start really starts) and the count.
        atexit.unregister(server._cleanup)
        server.global_process_id_list.get_and_remove(os.getpid())
        pgserver.PostgresServer._instances.pop(data_dir, None)
        postmaster = server.get_postmaster_info()
        if postmaster.socket_dir is None or postmaster.pid is None:
            raise EmbeddedError(f"pgserver on {data_dir} reported no socket directory")
        return cls(data_dir, postmaster.pid, postmaster.socket_dir, server.system_user, data_dir / "log")

    def stop(self, timeout_s: float = 30.0) -> None:
        """A fast shutdown (clients disconnected, everything committed kept); SIGKILL if it hangs."""
        if not process_is_alive(self.pid):
            return
        pg_ctl = _import_pgserver()._commands.POSTGRES_BIN_PATH / "pg_ctl"
        with contextlib.suppress(subprocess.SubprocessError, OSError):
            subprocess.run(  # noqa: S603 (pgserver's own pg_ctl)
                [str(pg_ctl), "-D", str(self.data_dir), "-w", "-t", str(int(timeout_s)), "-m", "fast", "stop"],
                user=self.system_user,
                check=False,
                capture_output=True,
                timeout=timeout_s + 5,
            )
        wait_gone(self.pid, timeout_s=5.0)

    def kill(self) -> None:
        """SIGKILL the postmaster, as a crash would."""
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)
        wait_gone(self.pid, timeout_s=5.0)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()


def running_url(data_dir: Path) -> str | None:
    """The URL of the server a ``jikimi up`` runs on ``data_dir``, if one is running there."""
    if not data_dir.exists():
        return None
    info = _import_pgserver().utils.PostmasterInfo.read_from_pgdata(data_dir.resolve())
    if info is None or not info.is_running() or info.socket_dir is None:
        return None
    return f"postgresql://postgres@/postgres?host={quote(str(info.socket_dir), safe='/')}"


def _import_pgserver() -> Any:
    try:
        with warnings.catch_warnings():
            # platformdirs warns when XDG_RUNTIME_DIR is unset; its fallback is fine for us.
            warnings.simplefilter("ignore")
            import pgserver  # noqa: PLC0415 (optional: x86_64 and Python <= 3.12 only)
            import pgserver.utils  # noqa: PLC0415
    except ImportError as e:
        msg = (
            "the embedded PostgreSQL (pgserver) is not installed on this platform (x86_64, Python <= 3.12 only): "
            "set JIKIMI_DATABASE_URL=postgresql://user@host:5432/db to use your own server"
        )
        raise EmbeddedError(msg) from e
    # Its INFO lines narrate every command it runs.
    logging.getLogger("pgserver").setLevel(logging.WARNING)
    return pgserver


def check_postgres_durability(url: str) -> list[str]:
    """The settings that would let a committed transaction be lost in a crash (empty if none)."""
    with psycopg.connect(url, connect_timeout=10) as conn:
        problems = []
        for name in _DURABILITY_SETTINGS:
            row = conn.execute(f"SHOW {name}").fetchone()
            value = str(row[0]) if row else "unknown"
            if value != "on":
                problems.append(f"{name} is {value} (must be on)")
        return problems
