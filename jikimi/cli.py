"""The ``jikimi`` command: ``up``, ``down``, ``migrate``, ``serve``, ``replay``, ``whatif``, ``day``, ``token``."""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from uuid import UUID

import psycopg

from jikimi.secret_key import MIN_KEY_LENGTH
from shared.auth import Role, issue_token
from shared.logging import configure_logging
from shared.services import SERVICES
from shared.settings import DatabaseSettings, NatsSettings, ServiceSettings

__all__ = ["main", "parse_duration"]

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> int:
    """Seconds in a duration such as ``90``, ``90s``, ``15m``, ``12h`` or ``7d``."""
    match = re.fullmatch(r"\s*(\d+)\s*([smhd]?)\s*", text)
    if match is None or int(match.group(1)) <= 0:
        msg = f"not a duration: {text!r} (use e.g. 90s, 15m, 12h, 7d)"
        raise argparse.ArgumentTypeError(msg)
    return int(match.group(1)) * _UNITS[match.group(2) or "s"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="jikimi", description="Run and operate Jikimi.")
    parser.add_argument("--log-level", default="info", help="debug, info, warning or error (default: info)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    up = commands.add_parser("up", help="start PostgreSQL, NATS and the four services here; Ctrl-C stops them")
    up.add_argument("--var", type=Path, default=Path("var"), help="where data, logs and PIDs live (default: ./var)")
    up.add_argument(
        "--unsafe-fast",
        action="store_true",
        help="let NATS acknowledge before fsync and run on a non-durable PostgreSQL (benchmarks only)",
    )

    down = commands.add_parser("down", help="stop processes left running by an earlier `jikimi up`")
    down.add_argument("--var", type=Path, default=Path("var"), help="the --var of that run (default: ./var)")

    commands.add_parser("migrate", help="create the tables and the stream (JIKIMI_DATABASE_URL, JIKIMI_NATS_URL)")

    serve = commands.add_parser("serve", help="run one service in this process")
    serve.add_argument("service", choices=SERVICES)

    replay = commands.add_parser(
        "replay", help="rebuild the timeline from every service's event table, while the services run"
    )
    replay.add_argument(
        "--var", type=Path, default=Path("var"), help="without JIKIMI_DATABASE_URL: the `jikimi up` of this folder"
    )

    whatif = commands.add_parser(
        "whatif", help="replay an incident's recorded inputs under another seat policy, side by side (sends nothing)"
    )
    whatif.add_argument("--incident", type=UUID, required=True, help="the incident's id")
    whatif.add_argument("--policy", type=Path, required=True, help="the seat policy file to try (TOML)")
    whatif.add_argument("--format", choices=["text", "json"], default="text", help="text for people, json for tools")
    whatif.add_argument(
        "--assume",
        choices=["none", "accept", "decline", "timeout"],
        default="none",
        help="the answer of experts with no recorded answer (default: none; their invitation lapses)",
    )
    whatif.add_argument(
        "--assume-after",
        type=parse_duration,
        default=None,
        help="when an assumed accept or decline comes (default: the median of the incident's recorded answers)",
    )

    day = commands.add_parser("day", help="play a day of reports, operators and experts through the running services")
    day.add_argument("--seed", type=int, default=1, help="the same seed plays the same day (default: 1)")
    day.add_argument("--incidents", type=int, default=300, help="how many incidents (default: 300)")
    day.add_argument("--month", type=int, choices=range(1, 13), help="its season (default: drawn from the seed)")
    pace = day.add_mutually_exclusive_group()
    pace.add_argument("--speed", type=float, default=720.0, help="day seconds per second (default: 720, 2 minutes)")
    pace.add_argument("--fast", action="store_true", help="as fast as the services take it")
    for service in ("intake", "community", "broadcast"):
        day.add_argument(f"--{service}", metavar="URL", help=f"{service}'s address (default: `jikimi up`'s)")
    day.add_argument("--concurrency", type=int, default=16, help="requests in flight at most (default: 16)")
    day.add_argument("--run", help="salts the run's phone numbers and chat ids (default: random)")
    day.add_argument("--plan", action="store_true", help="print the plan as JSON and play nothing")
    day.add_argument("--phones", type=int, metavar="PORT", help="answer as the Bot API and gateways here (README)")
    day.add_argument("--var", type=Path, default=Path("var"), help="read var/secret.key if JIKIMI_SECRET_KEY is unset")

    export = commands.add_parser(
        "export", help="write one incident's timeline, or the incidents opened in a date range, as a file"
    )
    scope = export.add_mutually_exclusive_group(required=True)
    scope.add_argument("--incident", type=UUID, help="the incident's id")
    scope.add_argument(
        "--from", dest="since", metavar="DATE", help="2026-11-01 (midnight in Seoul) or ISO 8601 with offset"
    )
    export.add_argument(
        "--to", dest="until", metavar="DATE", help="with --from: the end, excluded (at most 31 days on)"
    )
    export.add_argument("--format", choices=["jsonl", "csv", "parquet"], required=True)
    export.add_argument("--out", type=Path, help="the file to write (default: standard output; parquet needs one)")
    export.add_argument(
        "--var", type=Path, default=Path("var"), help="without JIKIMI_DATABASE_URL: the `jikimi up` of this folder"
    )

    token = commands.add_parser("token", help="print a signed token (JIKIMI_SECRET_KEY)")
    token.add_argument("--role", choices=[r.value for r in Role if r != Role.CITIZEN], default=Role.OPERATOR.value)
    token.add_argument("--subject", default="local-operator", help="who the token is for (default: local-operator)")
    token.add_argument("--ttl", type=parse_duration, default="12h", help="how long it is valid (default: 12h)")
    token.add_argument(
        "--var", type=Path, default=Path("var"), help="read var/secret.key if JIKIMI_SECRET_KEY is unset"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    """Parse the command line, run the command and exit with its status."""
    args = _parser().parse_args(argv)
    configure_logging(args.log_level)
    try:
        code = _run(args)
    except KeyboardInterrupt:
        code = 130
    except (RuntimeError, ValueError, OSError, psycopg.Error) as e:
        # Start-up refusals (stale server, port taken, durability off, missing settings) are for a human.
        print(f"jikimi {args.command}: {e}", file=sys.stderr)
        code = 1
    raise SystemExit(code)


def _run(args: argparse.Namespace) -> int:  # noqa: PLR0911 -- a return per command
    if args.command == "up":
        from jikimi.supervisor import up  # noqa: PLC0415 (keeps `serve` from importing the supervisor)

        return up(args.var, unsafe_fast=args.unsafe_fast)
    if args.command == "down":
        return _down(args.var)
    if args.command == "migrate":
        from jikimi.migrate import migrate  # noqa: PLC0415 (only this command needs eventsourcing's tables)

        migrate(DatabaseSettings.from_env(), NatsSettings.from_env())
        return 0
    if args.command == "serve":
        return _serve(args.service)
    if args.command == "replay":
        from jikimi.replay import replay  # noqa: PLC0415 (only this command reads every log)

        return replay(args.var)
    if args.command == "day":
        from jikimi.day.command import run_day  # noqa: PLC0415 (only this command plays a day)

        return run_day(args, secret_key=None if args.plan else _secret_key(args.var))
    if args.command == "export":
        from jikimi.export import run_export  # noqa: PLC0415 (only this command needs pyarrow)

        return run_export(args)
    if args.command == "whatif":
        from jikimi.whatif.command import run_whatif  # noqa: PLC0415 (only this command runs community's code)

        return run_whatif(args)
    return _token(role=Role(args.role), subject=args.subject, ttl_s=args.ttl, var_dir=args.var)


def _serve(service: str) -> int:
    import uvicorn  # noqa: PLC0415 (only this command serves HTTP)

    settings = ServiceSettings.from_env(service)
    uvicorn.run(
        f"services.{service}.app:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        log_config=None,  # structlog, configured above, owns the output
        access_log=False,  # request lines could carry tokens in query strings
    )
    return 0


def _secret_key(var_dir: Path) -> str:
    """``JIKIMI_SECRET_KEY``, else the key `jikimi up` keeps in ``var_dir``."""
    key = os.environ.get("JIKIMI_SECRET_KEY", "")
    if not key and (var_dir / "secret.key").exists():
        key = (var_dir / "secret.key").read_text().strip()
    if len(key) < MIN_KEY_LENGTH:
        msg = f"set JIKIMI_SECRET_KEY (>= {MIN_KEY_LENGTH} characters) or run `jikimi up` to make {var_dir}/secret.key"
        raise RuntimeError(msg)
    return key


def _token(*, role: Role, subject: str, ttl_s: int, var_dir: Path) -> int:
    print(issue_token(_secret_key(var_dir).encode(), subject, role, ttl_s=ttl_s))
    return 0


def _down(var_dir: Path) -> int:
    from jikimi.pidfile import PidFile, stop_entries  # noqa: PLC0415

    pids = PidFile(var_dir / "jikimi.pids")
    running = pids.running()
    if not running:
        print(f"nothing from {var_dir} is running")
        return 0
    supervisor = [entry for entry in running if entry.name == "supervisor"]
    # A live supervisor stops its own children in order; anything left after it is an orphan.
    stop_entries(supervisor, timeout_s=90.0)
    leftovers = [entry for entry in pids.running() if entry.name != "supervisor"]
    stop_entries(leftovers)
    print("stopped " + ", ".join(str(entry) for entry in supervisor + leftovers))
    (var_dir / "jikimi.pids").unlink(missing_ok=True)
    return 0
