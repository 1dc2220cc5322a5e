"""``jikimi up``: the whole system on one machine, as processes this one starts, watches and stops.

PostgreSQL (pgserver) and NATS (the wheel's nats-server) start first unless the environment
names servers to use, then the tables and the stream are made once, then the three services
start as child processes. Everything started is stopped again by PID, services first, on
Ctrl-C or SIGTERM, or as soon as any child dies.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import TextIO

import structlog

from jikimi.embedded import (
    NatsProcess,
    PostgresProcess,
    check_postgres_durability,
    process_is_alive,
    refuse_taken_port,
)
from jikimi.embedded.processes import log_tail
from jikimi.migrate import migrate
from jikimi.pidfile import PidFile
from jikimi.secret_key import load_or_create_secret_key
from shared.auth import Role, issue_token
from shared.services import SERVICES
from shared.settings import DatabaseSettings, NatsSettings, ServiceSettings

__all__ = ["SupervisorError", "up"]

log = structlog.get_logger()

TOKEN_TTL_S = 12 * 3600
HEALTH_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 15.0


class SupervisorError(RuntimeError):
    """Raised when the stack cannot start safely: stale processes, durability off, a child that died."""


class _StopRequested(BaseException):
    """Raised in the main thread by SIGINT/SIGTERM/SIGHUP; a BaseException so no handler swallows it."""


class _Signals:
    """Turns the first stop signal into :class:`_StopRequested`; later ones wait for the stop under way."""

    def __init__(self) -> None:
        self.stopping = False

    def install(self) -> None:
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, self._handle)

    def _handle(self, signum: int, _: FrameType | None) -> None:
        if self.stopping:
            return
        self.stopping = True
        log.info("stop_requested", signal=signal.Signals(signum).name)
        raise _StopRequested


@dataclass(frozen=True)
class _Owned:
    """A process we started: how to tell it is alive, where it logs."""

    name: str
    pid: int
    alive: Callable[[], bool]
    log_file: Path | None


class _Processes:
    """What this run started, in order: stopped in reverse (services first) when the run ends."""

    def __init__(self, stack: ExitStack, pids: PidFile) -> None:
        self._stack = stack
        self._pids = pids
        self.owned: list[_Owned] = []

    def own(self, owned: _Owned, stop: Callable[[], None]) -> None:
        self.owned.append(owned)
        self._pids.add(owned.name, owned.pid)
        self._stack.callback(self._stop, owned, stop)

    def _stop(self, owned: _Owned, stop: Callable[[], None]) -> None:
        stop()
        self._pids.remove(owned.pid)
        log.info("process_stopped", name=owned.name, pid=owned.pid)


def up(var_dir: Path, *, unsafe_fast: bool = False, out: TextIO = sys.stdout) -> int:
    """Run everything until stopped; 0 after a requested stop, 1 when a child died.

    Raises :class:`SupervisorError` (or ``EmbeddedError``) if it cannot start safely,
    after stopping whatever it had started."""
    var_dir = var_dir.resolve()
    (var_dir / "log").mkdir(parents=True, exist_ok=True)
    pids = PidFile(var_dir / "jikimi.pids")
    stale = pids.running()
    if stale:
        names = ", ".join(str(entry) for entry in stale)
        msg = f"processes from an earlier `jikimi up` on {var_dir} are still running: {names}; "
        msg += f"stop them with `jikimi down --var {var_dir}` (or kill {' '.join(str(e.pid) for e in stale)})"
        raise SupervisorError(msg)
    os.environ["JIKIMI_SECRET_KEY"] = load_or_create_secret_key(var_dir / "secret.key")
    services = [ServiceSettings.from_env(name) for name in SERVICES]
    for settings in services:
        refuse_taken_port(settings.port, f"{settings.name} service", settings.host)

    signals = _Signals()
    signals.install()
    pids.add("supervisor", os.getpid())
    try:
        with ExitStack() as stack:
            try:
                owned = _Processes(stack, pids)
                os.environ["JIKIMI_DATABASE_URL"] = _postgres(var_dir, owned, unsafe_fast=unsafe_fast)
                os.environ["JIKIMI_NATS_URL"] = _nats(var_dir, owned, unsafe_fast=unsafe_fast)
                migrate(DatabaseSettings.from_env(), NatsSettings.from_env())
                urls = {s.name: _start_service(s, var_dir, owned) for s in services}
                deadline = time.monotonic() + HEALTH_TIMEOUT_S  # for all of them: they start side by side
                for settings in services:
                    _wait_healthy(settings.name, urls[settings.name], owned, deadline)
                _print_ready(out, urls, services[0].secret_key)
                return _watch(owned)
            finally:
                signals.stopping = True  # the stop below must not be interrupted half-way
    except _StopRequested:
        log.info("stopped")
        return 0
    finally:
        pids.remove(os.getpid())


def _postgres(var_dir: Path, owned: _Processes, *, unsafe_fast: bool) -> str:
    url = os.environ.get("JIKIMI_DATABASE_URL", "")
    if not url:
        server = PostgresProcess.start(var_dir / "pg")
        alive = lambda: process_is_alive(server.pid)  # noqa: E731 (a one-line probe)
        owned.own(_Owned("postgres", server.pid, alive, server.log_file), server.stop)
        log.info("postgres_started", pid=server.pid, data_dir=str(server.data_dir))
        url = server.url
    problems = check_postgres_durability(url)
    if problems and not unsafe_fast:
        msg = f"PostgreSQL could lose committed data: {'; '.join(problems)} (--unsafe-fast runs anyway)"
        raise SupervisorError(msg)
    if problems:
        log.warning("postgres_not_durable", problems=problems)
    return url


def _nats(var_dir: Path, owned: _Processes, *, unsafe_fast: bool) -> str:
    url = os.environ.get("JIKIMI_NATS_URL", "")
    if url:
        log.warning("nats_durability_not_checked", url=url, reason="an external server's monitoring port is unknown")
        return url
    server = NatsProcess.start(
        port=int(os.environ.get("JIKIMI_NATS_PORT", "14222")),
        monitor_port=int(os.environ.get("JIKIMI_NATS_MONITOR_PORT", "18222")),
        store_dir=var_dir / "nats",
        log_file=var_dir / "log" / "nats.log",
        unsafe_fast=unsafe_fast,
    )
    owned.own(_Owned("nats", server.pid, lambda: server.process.poll() is None, server.log_file), server.stop)
    log.info("nats_started", pid=server.pid, url=server.url, sync_always=not unsafe_fast)
    return server.url


def _start_service(settings: ServiceSettings, var_dir: Path, owned: _Processes) -> str:
    """Start one service as a child process and return its base URL."""
    refuse_taken_port(settings.port, f"{settings.name} service", settings.host)
    log_file = var_dir / "log" / f"{settings.name}.log"
    with log_file.open("ab") as output:
        process = subprocess.Popen(  # noqa: S603 (this Python, our own module)
            [sys.executable, "-m", "jikimi", "serve", settings.name],
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a Ctrl-C on the terminal reaches the supervisor only
        )
    owned.own(_Owned(settings.name, process.pid, lambda: process.poll() is None, log_file), lambda: _terminate(process))
    log.info("service_started", service=settings.name, pid=process.pid, port=settings.port)
    host = "127.0.0.1" if settings.host in {"0.0.0.0", "", "::"} else settings.host  # noqa: S104 (comparison only)
    return f"http://{host}:{settings.port}"


def _terminate(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_healthy(name: str, url: str, owned: _Processes, deadline: float) -> None:
    """Return once ``GET /health`` answers 200; raise with the last answer and the log tail otherwise."""
    child = next(o for o in owned.owned if o.name == name)
    last = "no answer"
    while time.monotonic() < deadline:
        if not child.alive():
            raise SupervisorError(f"{name} exited while starting; {child.log_file}:\n{log_tail(child.log_file)}")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as response:  # noqa: S310 (our http:// URL)
                if response.status == 200:
                    log.info("service_healthy", service=name)
                    return
        except urllib.error.HTTPError as e:
            last = f"{e.code} {e.read(500).decode(errors='replace')}"  # 503 while its stores come up
        except (urllib.error.URLError, OSError) as e:
            last = str(e)  # not listening yet
        time.sleep(0.2)
    msg = f"{name} did not answer 200 on {url}/health within {HEALTH_TIMEOUT_S:.0f} s (last: {last}); "
    raise SupervisorError(msg + f"{child.log_file}:\n{log_tail(child.log_file)}")


def _print_ready(out: TextIO, urls: dict[str, str], secret_key: bytes) -> None:
    token = issue_token(secret_key, "local-operator", Role.OPERATOR, ttl_s=TOKEN_TTL_S)
    lines = ["", "Jikimi is running (Ctrl-C stops everything):"]
    lines += [f"  {name:<10} {url}   health {url}/health   OpenAPI {url}/schema" for name, url in urls.items()]
    lines += [f"  {'NATS':<10} {os.environ['JIKIMI_NATS_URL']}", ""]
    lines += ["Operator token (valid 12 h; send as 'Authorization: Bearer <token>'):", f"  {token}", ""]
    print("\n".join(lines), file=out, flush=True)


def _watch(owned: _Processes) -> int:
    """Block until a stop signal (raised as _StopRequested) or until a child or server dies."""
    while True:
        for child in owned.owned:
            if not child.alive():
                log.error("child_died", name=child.name, pid=child.pid)
                tail = log_tail(child.log_file)
                print(
                    f"{child.name} (pid {child.pid}) died; stopping the rest. {child.log_file}:\n{tail}",
                    file=sys.stderr,
                )
                return 1
        time.sleep(0.5)
