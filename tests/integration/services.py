"""Real service processes for end-to-end tests, their output kept in var/log/."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from jikimi.embedded.services import running_service
from shared.settings import DatabaseSettings, NatsSettings

ROOT = Path(__file__).resolve().parents[2]
SECRET_KEY = "integration-tests-secret-key-0123456789"


@contextmanager
def service_process(
    name: str, database: DatabaseSettings, nats_url: str, extra_env: Mapping[str, str] | None = None
) -> Iterator[str]:
    """Start one service; yields its base URL once /health answers 200."""
    log = ROOT / "var" / "log"
    log.mkdir(parents=True, exist_ok=True)
    with (
        (log / f"test-{name}.log").open("ab") as output,
        running_service(
            name, database, NatsSettings(url=nats_url), secret_key=SECRET_KEY, env=extra_env, output=output
        ) as url,
    ):
        yield url


@contextmanager
def all_services(database: DatabaseSettings, nats_url: str) -> Iterator[dict[str, str]]:
    """Intake, community, broadcast and timeline, started together; their base URLs by name."""
    with (
        service_process("intake", database, nats_url) as intake,
        service_process("community", database, nats_url) as community,
        service_process("broadcast", database, nats_url) as broadcast,
        service_process("timeline", database, nats_url) as timeline,
    ):
        yield {"intake": intake, "community": community, "broadcast": broadcast, "timeline": timeline}
