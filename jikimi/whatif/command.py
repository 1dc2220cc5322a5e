"""``jikimi whatif``: one incident under another seat policy, printed as text or JSON."""

from __future__ import annotations

import argparse
import sys

import msgspec

from jikimi.whatif.compare import policy_from_text, whatif
from jikimi.whatif.inputs import IncidentNotFoundError
from jikimi.whatif.text import render_text
from services.community.policy import PolicyError
from shared.settings import DatabaseSettings

__all__ = ["run_whatif"]


def run_whatif(args: argparse.Namespace) -> int:
    """Exit status 2 when the policy file cannot be read or is refused (the message names the
    problem), 1 when the incident is unknown, 0 with the comparison on standard output."""
    try:
        policy_text = args.policy.read_text(encoding="utf-8")
        policy_from_text(policy_text)  # refused before anything else is asked of the user
    except (OSError, UnicodeDecodeError, PolicyError) as e:
        print(f"jikimi whatif: {args.policy}: {e}", file=sys.stderr)
        return 2
    try:
        database = DatabaseSettings.from_env()
        result = whatif(database, args.incident, policy_text, assume=args.assume, assume_after_s=args.assume_after)
    except IncidentNotFoundError as e:
        print(f"jikimi whatif: {e}", file=sys.stderr)
        return 1
    if args.format == "json":
        sys.stdout.write(msgspec.json.format(msgspec.json.encode(result)).decode() + "\n")
    else:
        sys.stdout.write(render_text(result))
    return 0
