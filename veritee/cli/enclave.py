"""``veritee enclave serve --config FILE``: run the enclave proxy.

The configuration keys are documented in ``docs/operator.md`` ("Enclave configuration").
Exit codes: 0 after a clean shutdown, 2 for a bad configuration or a missing extra
(:mod:`enclave.main`, which ``python -m enclave`` runs as well).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from veritee.cli.exitcodes import BAD_INPUT


def register(sub: Any) -> None:
    parser = sub.add_parser("enclave", help="the in-enclave proxy that signs every exchange")
    commands = parser.add_subparsers(dest="enclave_command", metavar="COMMAND")
    serve = commands.add_parser("serve", help="serve the OpenAI-compatible API")
    serve.add_argument("--config", required=True, type=Path, help="TOML configuration file")
    serve.set_defaults(handler=_serve)
    parser.set_defaults(handler=lambda args: _usage(parser))


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return BAD_INPUT


def _serve(args: argparse.Namespace) -> int:
    try:
        from enclave import main  # the enclave extra may not be installed
    except ImportError as exc:
        print(f"the enclave needs the 'enclave' extra (veritee[enclave]): {exc}", file=sys.stderr)
        return BAD_INPUT
    return main.run(args.config)
