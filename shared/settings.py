"""Settings read from the environment once, at start-up; one dataclass per concern."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from urllib.parse import parse_qs, unquote, urlsplit

__all__ = ["DatabaseSettings", "NatsSettings", "ServiceSettings", "database_env"]

DEFAULT_PORTS = {"intake": 8101, "community": 8102, "broadcast": 8103, "timeline": 8104}


@dataclass(frozen=True)
class DatabaseSettings:
    """Where the event tables live (``JIKIMI_DATABASE_URL``, a ``postgresql://`` URL)."""

    url: str
    pool_size: int = 8
    lock_timeout_s: int = 5

    @classmethod
    def from_env(cls) -> DatabaseSettings:
        url = os.environ.get("JIKIMI_DATABASE_URL", "")
        if not url:
            msg = "JIKIMI_DATABASE_URL is not set (jikimi up sets it for the embedded PostgreSQL)"
            raise RuntimeError(msg)
        return cls(url=url, pool_size=int(os.environ.get("JIKIMI_DB_POOL_SIZE", "8")))


def database_env(settings: DatabaseSettings) -> dict[str, str]:
    """The eventsourcing environment variables that point its PostgreSQL factory at ``url``.

    A unix-socket URL (``postgresql://user@/db?host=/run/dir``) is supported, as pgserver
    listens on a socket only.
    """
    parts = urlsplit(settings.url)
    if parts.scheme not in {"postgresql", "postgres"}:
        msg = f"JIKIMI_DATABASE_URL must start with postgresql://, not {parts.scheme!r}://"
        raise ValueError(msg)
    query = parse_qs(parts.query)
    host = query.get("host", [parts.hostname or "localhost"])[0]
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": unquote(parts.path.lstrip("/")) or "postgres",
        "POSTGRES_HOST": unquote(host),
        "POSTGRES_PORT": str(parts.port or 5432),
        "POSTGRES_USER": unquote(parts.username or "postgres"),
        "POSTGRES_PASSWORD": unquote(parts.password or ""),
        "POSTGRES_POOL_SIZE": str(settings.pool_size),
        "POSTGRES_MAX_OVERFLOW": str(settings.pool_size),
        "POSTGRES_LOCK_TIMEOUT": str(settings.lock_timeout_s),
        "POSTGRES_CONNECT_TIMEOUT": "10",
    }


@dataclass(frozen=True)
class NatsSettings:
    """The JetStream server and the one stream every service publishes to."""

    url: str = "nats://127.0.0.1:4222"
    """One server, or a cluster's seeds separated by commas (the client learns the rest)."""
    stream: str = "JIKIMI"
    duplicate_window_s: float = 120.0
    replicas: int = 1

    @property
    def servers(self) -> list[str]:
        """The servers of ``url``, in order."""
        return [server.strip() for server in self.url.split(",") if server.strip()]

    @classmethod
    def from_env(cls) -> NatsSettings:
        return cls(
            url=os.environ.get("JIKIMI_NATS_URL", cls.url),
            stream=os.environ.get("JIKIMI_NATS_STREAM", cls.stream),
            replicas=int(os.environ.get("JIKIMI_NATS_REPLICAS", "1")),
        )


@dataclass(frozen=True)
class ServiceSettings:
    """One service's HTTP and security settings."""

    name: str
    host: str = "127.0.0.1"
    port: int = 0
    secret_key: bytes = field(default=b"", repr=False)

    @classmethod
    def from_env(cls, name: str) -> ServiceSettings:
        key = os.environ.get("JIKIMI_SECRET_KEY", "")
        if len(key) < 32:
            msg = "JIKIMI_SECRET_KEY must be set to at least 32 characters (jikimi up makes one)"
            raise RuntimeError(msg)
        return cls(
            name=name,
            host=os.environ.get("JIKIMI_HOST", cls.host),
            port=int(os.environ.get(f"JIKIMI_{name.upper()}_PORT", str(DEFAULT_PORTS[name]))),
            secret_key=key.encode(),
        )
