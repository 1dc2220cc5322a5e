"""``jikimi day``: plan a day from a seed and play it against the running services."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import secrets
import sys

import msgspec

from jikimi.day.phones import phones
from jikimi.day.plan import plan_day
from jikimi.day.player import Targets, play
from jikimi.day.wire import CHANNEL_SECRETS
from shared.settings import DEFAULT_PORTS

__all__ = ["run_day", "service_url"]


def service_url(name: str) -> str:
    """Where ``jikimi up`` serves ``name``: ``JIKIMI_HOST`` and ``JIKIMI_<NAME>_PORT``, or their defaults."""
    host = os.environ.get("JIKIMI_HOST", "127.0.0.1")
    if host in {"0.0.0.0", "::", ""}:  # noqa: S104 (listening everywhere: reach it here)
        host = "127.0.0.1"
    port = os.environ.get(f"JIKIMI_{name.upper()}_PORT", str(DEFAULT_PORTS[name]))
    return f"http://{host}:{port}"


def run_day(args: argparse.Namespace, *, secret_key: str | None) -> int:
    """Print the plan (``--plan``), or play it and print what happened; 1 if anything failed."""
    if args.incidents < 1:
        raise ValueError("--incidents: at least 1")
    plan = plan_day(args.seed, args.incidents, month=args.month)
    if args.plan:
        sys.stdout.buffer.write(msgspec.json.format(msgspec.json.encode(plan)) + b"\n")
        return 0
    assert secret_key is not None
    if args.concurrency < 1:
        raise ValueError("--concurrency: at least 1")
    if not args.fast and args.speed <= 0:
        raise ValueError("--speed: plan seconds per second, more than 0")
    targets = Targets(
        intake=(args.intake or service_url("intake")).rstrip("/"),
        community=(args.community or service_url("community")).rstrip("/"),
        broadcast=(args.broadcast or service_url("broadcast")).rstrip("/"),
        secret_key=secret_key.encode(),
        channel_secrets={channel: os.environ.get(name, "") for channel, name in CHANNEL_SECRETS.items()},
    )
    run = args.run or secrets.token_hex(4)
    speed = None if args.fast else args.speed
    with phones(args.phones) if args.phones is not None else contextlib.nullcontext():
        summary = asyncio.run(play(plan, targets, speed=speed, run=run, concurrency=args.concurrency))
    print("\n".join(summary.lines()))
    return 0 if summary.ok else 1
