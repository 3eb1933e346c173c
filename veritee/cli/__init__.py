"""The ``veritee`` console script: one module per subcommand, registered here.

Exit codes: 0 verified/ok, 1 verification failed, 2 malformed input or usage,
3 could not check (see :mod:`veritee.cli.exitcodes`).
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Sequence

from veritee import __version__
from veritee.cli.exitcodes import BAD_INPUT, guarded

# Each module defines ``register(subparsers)`` and sets ``handler`` on its parsers.
SUBCOMMANDS: tuple[str, ...] = ("attest", "enclave", "policy", "upstream_sim", "verify")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="veritee",
        description="TEE-hosted LLM proxy: signed transcripts, attestation and verification.",
    )
    parser.add_argument("--version", action="version", version=f"veritee {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMANDS:
        module = importlib.import_module(f"veritee.cli.{name}")
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return BAD_INPUT
    return guarded(lambda: int(handler(args)))
