"""Ports, PIDs and the errors shared by the embedded servers."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import time
from pathlib import Path

__all__ = [
    "LOOPBACK",
    "EmbeddedError",
    "PortTakenError",
    "free_port",
    "log_tail",
    "port_is_taken",
    "process_is_alive",
    "refuse_taken_port",
    "wait_gone",
]

LOOPBACK = "127.0.0.1"


class EmbeddedError(RuntimeError):
    """Raised when a server cannot be found, started or trusted."""


class PortTakenError(EmbeddedError):
    """Raised when a port we were asked to listen on is already in use."""


def free_port(host: str = LOOPBACK) -> int:
    """A TCP port that was free a moment ago (the kernel's choice)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def port_is_taken(host: str, port: int) -> bool:
    """Whether a server could not bind ``host:port`` now (someone listens there, on it or on all addresses)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # The same option servers set, so a closed server's TIME_WAIT sockets do not count as taken.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return True
        return False


def refuse_taken_port(port: int, what: str, host: str = LOOPBACK) -> None:
    """Raise :class:`PortTakenError` naming ``port`` if it is in use."""
    if port_is_taken(host, port):
        msg = (
            f"port {port} ({what}) is already in use on {host}: probably a stale server from an earlier run "
            f"(see var/jikimi.pids, or `jikimi down`); stop it or choose another port"
        )
        raise PortTakenError(msg)


def process_is_alive(pid: int) -> bool:
    """Whether a process with this id exists (a zombie counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with contextlib.suppress(OSError):
        # Field 3 of /proc/<pid>/stat is the state; "Z" is a zombie waiting to be reaped.
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] != "Z"
    return True


def log_tail(path: Path | None, lines: int = 20) -> str:
    """The last ``lines`` lines of a log file, for an error message."""
    if path is None or not path.exists():
        return "(no log)"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def wait_gone(pid: int, *, timeout_s: float) -> None:
    """Return once ``pid`` has exited; SIGKILL it if it outlives ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while process_is_alive(pid):
        if time.monotonic() > deadline:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            deadline = time.monotonic() + timeout_s
        time.sleep(0.05)
