"""``veritee verify evidence|receipts|bundle``: offline verification for compliance teams."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from veritee.cli.common import print_json
from veritee.cli.exitcodes import classify, describe
from veritee.cli.verify import bundle, evidence, receipts


def register(sub: Any) -> None:
    parser = sub.add_parser("verify", help="verify evidence, receipts or audit bundles offline")
    verbs = parser.add_subparsers(dest="what", metavar="WHAT")
    evidence.register(verbs)
    receipts.register(verbs)
    bundle.register(verbs)
    parser.set_defaults(handler=lambda _args: _missing(parser))


def _missing(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def json_guarded(args: argparse.Namespace, run: Callable[[], int]) -> int:
    """With ``--json``, failures are printed as a JSON verdict too (exit codes unchanged)."""
    if not getattr(args, "json", False):
        return run()
    try:
        return run()
    except Exception as exc:  # noqa: BLE001 - turned into a verdict, never a traceback
        code, label = classify(exc)
        print_json(
            {
                "verified": False,
                "exit_code": code,
                "outcome": label,
                "check": getattr(exc, "check", None),
                "reason": getattr(exc, "reason", None) or describe(exc),
            }
        )
        return code
