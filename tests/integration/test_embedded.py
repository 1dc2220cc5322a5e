"""The local stack: servers from the wheels, refused stale ports, and `jikimi up` from start to Ctrl-C."""

from __future__ import annotations

import importlib.util
import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import nats
import psycopg
import pytest

from jikimi.embedded import (
    NatsProcess,
    PortTakenError,
    PostgresProcess,
    check_postgres_durability,
    free_port,
    nats_server_binary,
    port_is_taken,
    process_is_alive,
)
from shared.auth import Role, verify_token

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("intake", "community", "broadcast", "timeline")
needs_pgserver = pytest.mark.skipif(importlib.util.find_spec("pgserver") is None, reason="pgserver not installed")
needs_services = pytest.mark.skipif(
    not all((ROOT / "services" / name / "app.py").exists() for name in SERVICES),
    reason="the services' create_app() are not written yet",
)


@pytest.fixture
def nats_process(tmp_path: Path) -> Iterator[NatsProcess]:
    server = NatsProcess.start(port=free_port(), monitor_port=free_port(), store_dir=tmp_path / "nats")
    yield server
    server.stop()


def test_nats_comes_from_the_wheel_and_syncs_every_write(nats_process: NatsProcess) -> None:
    assert nats_server_binary().parent == Path(sys.executable).parent
    assert nats_process.varz()["jetstream"]["config"]["sync_always"] is True
    assert nats_process.url == f"nats://127.0.0.1:{nats_process.port}"


def test_unsafe_fast_nats_does_not_sync_every_write(tmp_path: Path) -> None:
    with NatsProcess.start(port=free_port(), monitor_port=free_port(), store_dir=tmp_path, unsafe_fast=True) as server:
        assert not NatsProcess.syncs_always(server.varz())


def test_a_second_nats_on_a_taken_port_is_refused_naming_the_port(nats_process: NatsProcess, tmp_path: Path) -> None:
    with pytest.raises(PortTakenError, match=f"port {nats_process.port} .*stale server"):
        NatsProcess.start(port=nats_process.port, monitor_port=free_port(), store_dir=tmp_path / "other")
    with pytest.raises(PortTakenError, match=f"port {nats_process.monitor_port} "):
        NatsProcess.start(port=free_port(), monitor_port=nats_process.monitor_port, store_dir=tmp_path / "other")


def test_a_stopped_nats_leaves_nothing_listening(tmp_path: Path) -> None:
    server = NatsProcess.start(port=free_port(), monitor_port=free_port(), store_dir=tmp_path)
    server.stop()
    assert server.process.returncode is not None
    assert not process_is_alive(server.pid)
    assert not port_is_taken("127.0.0.1", server.port)
    assert not port_is_taken("127.0.0.1", server.monitor_port)


async def test_a_message_acknowledged_before_a_kill_is_there_after_restart(tmp_path: Path) -> None:
    port, monitor = free_port(), free_port()
    server = NatsProcess.start(port=port, monitor_port=monitor, store_dir=tmp_path)
    nc = await nats.connect(server.url)
    js = nc.jetstream()
    await js.add_stream(name="CRASH", subjects=["crash.>"])
    await js.publish("crash.one", b"kept")
    await nc.close()
    server.kill()

    with NatsProcess.start(port=port, monitor_port=monitor, store_dir=tmp_path) as restarted:
        nc = await nats.connect(restarted.url)
        message = await nc.jetstream().get_msg("CRASH", 1)
        await nc.close()
    assert message.data == b"kept"


@needs_pgserver
def test_pgserver_gives_a_durable_database_that_keeps_its_rows_across_restarts(pgserver_dir: Path) -> None:
    server = PostgresProcess.start(pgserver_dir / "pg")
    with psycopg.connect(server.url, autocommit=True) as conn:
        conn.execute("CREATE TABLE kept (n int)")
        conn.execute("INSERT INTO kept VALUES (7)")
    assert check_postgres_durability(server.url) == []
    server.stop()
    assert not process_is_alive(server.pid)

    with PostgresProcess.start(pgserver_dir / "pg") as again, psycopg.connect(again.url) as conn:
        assert conn.execute("SELECT n FROM kept").fetchone() == (7,)


@needs_pgserver
def test_a_second_pgserver_on_the_same_folder_is_refused(pgserver_dir: Path) -> None:
    with PostgresProcess.start(pgserver_dir / "pg") as server, pytest.raises(RuntimeError, match=f"pid {server.pid}"):
        PostgresProcess.start(pgserver_dir / "pg")


def test_the_test_database_is_durable(database_url: str) -> None:
    assert check_postgres_durability(database_url) == []


def _up_env(database_url: str, ports: dict[str, int]) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("JIKIMI_")}
    env["JIKIMI_DATABASE_URL"] = database_url
    env.update({f"JIKIMI_{name.upper()}_PORT": str(port) for name, port in ports.items()})
    return env


def _free_ports() -> dict[str, int]:
    return {name: free_port() for name in (*SERVICES, "nats", "nats_monitor")}


def test_up_refuses_a_service_port_held_by_a_stale_server(tmp_path: Path, database_url: str) -> None:
    ports = _free_ports()
    with socket.create_server(("127.0.0.1", ports["community"])):
        result = subprocess.run(
            [sys.executable, "-m", "jikimi", "up", "--var", str(tmp_path)],
            env=_up_env(database_url, ports),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert result.returncode != 0
    assert f"port {ports['community']} (community service)" in result.stderr
    assert not (tmp_path / "jikimi.pids").exists()


def test_up_refuses_while_processes_of_an_earlier_run_are_alive(tmp_path: Path, database_url: str) -> None:
    with subprocess.Popen(["sleep", "30"]) as leftover:
        started = Path(f"/proc/{leftover.pid}/stat").read_text().rpartition(")")[2].split()[19]
        (tmp_path / "jikimi.pids").write_text(json.dumps([{"name": "nats", "pid": leftover.pid, "started": started}]))
        result = subprocess.run(
            [sys.executable, "-m", "jikimi", "up", "--var", str(tmp_path)],
            env=_up_env(database_url, _free_ports()),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        leftover.kill()
    assert result.returncode != 0
    assert f"nats (pid {leftover.pid})" in result.stderr


def test_down_stops_what_an_earlier_run_left_running(tmp_path: Path) -> None:
    with subprocess.Popen(["sleep", "30"]) as leftover:
        started = Path(f"/proc/{leftover.pid}/stat").read_text().rpartition(")")[2].split()[19]
        (tmp_path / "jikimi.pids").write_text(json.dumps([{"name": "nats", "pid": leftover.pid, "started": started}]))
        result = subprocess.run(
            [sys.executable, "-m", "jikimi", "down", "--var", str(tmp_path)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert leftover.wait(timeout=5) == -signal.SIGTERM
    assert result.returncode == 0
    assert f"nats (pid {leftover.pid})" in result.stdout
    assert not (tmp_path / "jikimi.pids").exists()


def _read_lines(stream: IO[str], lines: queue.Queue[str]) -> None:
    for line in stream:
        lines.put(line)


def _wait_for_token(
    lines: queue.Queue[str], process: subprocess.Popen[str], errors: Path, timeout_s: float
) -> list[str]:
    seen: list[str] = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            seen.append(lines.get(timeout=0.5))
        except queue.Empty:
            if process.poll() is not None:
                pytest.fail(
                    f"jikimi up exited with {process.returncode}:\n{''.join(seen)}\n{errors.read_text()[-3000:]}"
                )
            continue
        if len(seen) >= 2 and seen[-2].startswith("Operator token"):
            return seen
    pytest.fail(f"jikimi up printed no token within {timeout_s} s:\n{''.join(seen)}\n{errors.read_text()[-3000:]}")


@dataclass
class RunningUp:
    """A `jikimi up` child process that has printed its URLs and token."""

    process: subprocess.Popen[str]
    ports: dict[str, int]
    var: Path
    printed: str

    def pids(self) -> dict[str, int]:
        return {entry["name"]: entry["pid"] for entry in json.loads((self.var / "jikimi.pids").read_text())}


@pytest.fixture
def running_up(tmp_path: Path, database_url: str) -> Iterator[RunningUp]:
    ports = _free_ports()
    var, errors = tmp_path / "var", tmp_path / "up.stderr"
    with errors.open("w") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "jikimi", "up", "--var", str(var)],
            env=_up_env(database_url, ports),
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
    try:
        lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=_read_lines, args=(process.stdout, lines), daemon=True).start()
        printed = "".join(_wait_for_token(lines, process, errors, timeout_s=100))
        yield RunningUp(process, ports, var, printed)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
            subprocess.run([sys.executable, "-m", "jikimi", "down", "--var", str(var)], check=False, timeout=120)


@needs_services
def test_up_starts_everything_prints_urls_and_a_token_and_stops_every_child_on_ctrl_c(running_up: RunningUp) -> None:
    for name in SERVICES:
        base = f"http://127.0.0.1:{running_up.ports[name]}"
        assert f"{base}/health" in running_up.printed
        assert f"{base}/schema" in running_up.printed
        with urllib.request.urlopen(f"{base}/health", timeout=5) as response:
            assert response.status == 200
    key_file = running_up.var / "secret.key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    key = key_file.read_text().strip()
    token = running_up.printed.split("Operator token")[1].splitlines()[1].strip()
    assert verify_token(key.encode(), token).role is Role.OPERATOR
    assert key not in running_up.printed
    children = running_up.pids()
    assert set(children) == {"supervisor", "nats", *SERVICES}  # Postgres is the test's own

    running_up.process.send_signal(signal.SIGINT)

    assert running_up.process.wait(timeout=60) == 0
    assert not any(process_is_alive(pid) for pid in children.values())
    assert not any(port_is_taken("127.0.0.1", port) for port in running_up.ports.values())
    assert not (running_up.var / "jikimi.pids").exists()


@needs_services
@pytest.mark.slow
def test_when_a_service_dies_up_stops_the_rest_and_exits_non_zero(running_up: RunningUp) -> None:
    children = running_up.pids()
    os.kill(children["community"], signal.SIGKILL)

    assert running_up.process.wait(timeout=60) == 1
    assert not any(process_is_alive(pid) for pid in children.values())
    assert not (running_up.var / "jikimi.pids").exists()
