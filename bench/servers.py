"""The servers a benchmark run uses, always cleaned up: a scratch database on the chosen
PostgreSQL, and a nats-server of our own (from the wheel, fsync on every write).

The PostgreSQL is, in order: ``JIKIMI_DATABASE_URL``, ``JIKIMI_TEST_DATABASE_URL``, the local
server on ``localhost:5432/test`` if it answers, else an embedded one (pgserver).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

from jikimi.embedded import EmbeddedError, NatsProcess, PostgresProcess, free_port
from shared.settings import DatabaseSettings, NatsSettings

__all__ = ["LOCAL_DATABASE_URL", "Servers", "bench_servers", "with_database"]

LOCAL_DATABASE_URL = "postgresql://postgres@localhost:5432/test"


@dataclass(frozen=True)
class Servers:
    """Where the benchmarks run; ``origin`` says which PostgreSQL was chosen and why."""

    database: DatabaseSettings
    nats: NatsSettings
    origin: str


def with_database(url: str, dbname: str) -> str:
    """``url`` pointing at database ``dbname`` on the same server (unix-socket URLs too)."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{dbname}"))


@contextlib.contextmanager
def bench_servers(workdir: Path, *, embedded_postgres: bool = False) -> Iterator[Servers]:
    """Start or choose the servers, make the scratch database; undo all of it on the way out."""
    with contextlib.ExitStack() as stack:
        server_url, origin = stack.enter_context(_postgres_server(workdir / "postgres", embedded=embedded_postgres))
        database_url = stack.enter_context(_scratch_database(server_url))
        nats = stack.enter_context(_nats_server(workdir / "nats"))
        yield Servers(
            database=DatabaseSettings(url=database_url, pool_size=4),
            nats=NatsSettings(url=nats.url),
            origin=origin,
        )


@contextlib.contextmanager
def _postgres_server(data_dir: Path, *, embedded: bool) -> Iterator[tuple[str, str]]:
    if not embedded:
        for variable in ("JIKIMI_DATABASE_URL", "JIKIMI_TEST_DATABASE_URL"):
            if url := os.environ.get(variable):
                yield url, variable
                return
        if _answers(LOCAL_DATABASE_URL):
            yield LOCAL_DATABASE_URL, "localhost:5432"
            return
    _note("starting an embedded PostgreSQL (pgserver)")
    # Run as root, pgserver hands the data folder to its own system user, who must reach it.
    data_dir.parent.chmod(0o755)
    server = PostgresProcess.start(data_dir)
    try:
        yield server.url, "pgserver"
    finally:
        server.stop()


def _answers(url: str) -> bool:
    try:
        with psycopg.connect(url, connect_timeout=2):
            return True
    except psycopg.Error:
        return False


@contextlib.contextmanager
def _scratch_database(server_url: str) -> Iterator[str]:
    name = f"jikimi_bench_{secrets.token_hex(4)}"
    with psycopg.connect(server_url, autocommit=True, connect_timeout=10) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield with_database(server_url, name)
    finally:
        # FORCE: a pool a benchmark failed to close must not keep the database alive.
        with psycopg.connect(server_url, autocommit=True, connect_timeout=10) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@contextlib.contextmanager
def _nats_server(store_dir: Path) -> Iterator[NatsProcess]:
    # NatsProcess.start configures sync_interval "always" and refuses a server whose /varz says otherwise;
    # we check again here, as every publish figure depends on it.
    server = NatsProcess.start(port=free_port(), store_dir=store_dir, monitor_port=free_port())
    try:
        if not NatsProcess.syncs_always(server.varz()):
            raise EmbeddedError("the benchmark's nats-server does not fsync each write (/varz sync_always false)")
        yield server
    finally:
        server.stop()


def _note(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)
