"""``var/jikimi.pids``: the processes one ``jikimi up`` started, so a later run can name stale ones.

Each entry keeps the process's start time (from ``/proc``) beside its PID, so a PID the kernel
has since given to an unrelated process is not mistaken for ours.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
from dataclasses import asdict, dataclass
from pathlib import Path

from jikimi.embedded import process_is_alive, wait_gone

__all__ = ["PidEntry", "PidFile", "process_start_ticks", "stop_entries"]


def process_start_ticks(pid: int) -> str:
    """When ``pid`` started, in clock ticks since boot ("" where ``/proc`` is not available)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    # Fields after the command name (which may hold spaces) start at field 3; start time is field 22.
    return stat.rpartition(")")[2].split()[19]


@dataclass(frozen=True)
class PidEntry:
    """One process we started: what it is, its PID and when it started."""

    name: str
    pid: int
    started: str = ""

    @classmethod
    def of(cls, name: str, pid: int) -> PidEntry:
        """The entry for a running process, with its start time read now."""
        return cls(name, pid, process_start_ticks(pid))

    def is_running(self) -> bool:
        """Whether this very process (not a later one with the same PID) still runs."""
        if not process_is_alive(self.pid):
            return False
        return not self.started or process_start_ticks(self.pid) in {"", self.started}

    def __str__(self) -> str:
        return f"{self.name} (pid {self.pid})"


class PidFile:
    """The list of processes on disk, rewritten whole (atomically) on every change."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._entries: list[PidEntry] = []

    def read(self) -> list[PidEntry]:
        """The entries written by the last run (empty if there is no file or it is unreadable)."""
        try:
            raw = json.loads(self.path.read_text())
            return [PidEntry(str(e["name"]), int(e["pid"]), str(e.get("started", ""))) for e in raw]
        except (OSError, ValueError, KeyError, TypeError):
            return []

    def running(self) -> list[PidEntry]:
        """The recorded processes that are still running."""
        return [entry for entry in self.read() if entry.is_running()]

    def add(self, name: str, pid: int) -> None:
        """Record a process we have just started."""
        self._entries.append(PidEntry.of(name, pid))
        self._write()

    def remove(self, pid: int) -> None:
        """Forget a process we have stopped."""
        self._entries = [entry for entry in self._entries if entry.pid != pid]
        self._write()

    def _write(self) -> None:
        if not self._entries:
            self.path.unlink(missing_ok=True)
            return
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps([asdict(entry) for entry in self._entries], indent=1) + "\n")
        tmp.replace(self.path)


def stop_entries(entries: list[PidEntry], *, timeout_s: float = 15.0) -> None:
    """Stop recorded processes, newest first (services before the servers they use)."""
    for entry in reversed(entries):
        # SIGINT is PostgreSQL's fast shutdown; SIGTERM would wait for every client to leave.
        sig = signal.SIGINT if entry.name == "postgres" else signal.SIGTERM
        with contextlib.suppress(ProcessLookupError):
            os.kill(entry.pid, sig)
        wait_gone(entry.pid, timeout_s=timeout_s)
