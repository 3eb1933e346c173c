"""Arguments and output shared by the verifying subcommands."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from verifier.collateral import CollateralSource, open_collateral
from verifier.errors import BadInput
from verifier.policy import Policy
from verifier.trust import TrustedRoots

# The roots each platform is verified against when no --roots/--product is given.
DEFAULT_ROOTS: dict[str, tuple[str, ...]] = {
    "sev-snp": tuple(
        f"amd-{product}{suffix}"
        for product in ("milan", "genoa", "turin")
        for suffix in ("", "-vlek")
    ),
    "nitro": ("aws-nitro",),
    "tdx": ("intel-sgx",),
}


def add_trust_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--product",
        choices=("milan", "genoa", "turin"),
        help="SEV-SNP: trust AMD's shipped roots for this product only",
    )
    group.add_argument(
        "--roots",
        type=Path,
        action="append",
        metavar="DIR|FILE",
        help="trust these root certificates (PEM/DER files or directories) instead of the shipped ones",
    )
    parser.add_argument(
        "--collateral",
        type=Path,
        metavar="F",
        help="TDX/SEV-SNP collateral: a directory or JSON bundle",
    )
    parser.add_argument(
        "--fetch-collateral",
        type=Path,
        metavar="CACHE_DIR",
        help="fetch missing collateral from Intel PCS / AMD KDS (needs the network), caching it here",
    )
    parser.add_argument(
        "--policy", type=Path, metavar="P", help="policy TOML (default: the default policy)"
    )
    parser.add_argument(
        "--at", metavar="TIME", help="verify as of this ISO 8601 time (default: now)"
    )
    parser.add_argument("--json", action="store_true", help="print the verdict as JSON")


def roots_for(args: argparse.Namespace, platform: str) -> TrustedRoots:
    if args.roots:
        return TrustedRoots.from_paths(args.roots)
    if args.product:
        return TrustedRoots.shipped(f"amd-{args.product}", f"amd-{args.product}-vlek")
    names = [n for n in DEFAULT_ROOTS.get(platform, ()) if n in _shipped_names()]
    return TrustedRoots.shipped(*names) if names else TrustedRoots()


def _shipped_names() -> frozenset[str]:
    from verifier.trust import SHIPPED

    return frozenset(SHIPPED)


def collateral_from(args: argparse.Namespace) -> CollateralSource | None:
    return open_collateral(args.collateral, fetch_cache=args.fetch_collateral)


def policy_from(args: argparse.Namespace) -> Policy:
    return Policy.load(args.policy) if args.policy else Policy()


def parse_time(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise BadInput(
            "time", f"{text!r} is not an ISO 8601 time (e.g. 2025-01-01T00:00:00Z)"
        ) from None
    if when.tzinfo is None:
        raise BadInput("time", f"{text!r} has no time zone; add Z or an offset")
    return when


def read_input(path: Path) -> bytes:
    if str(path) == "-":
        return sys.stdin.buffer.read()
    return path.read_bytes()


def print_json(payload: dict[str, Any]) -> None:
    sys.stdout.write(orjson.dumps(payload, option=orjson.OPT_INDENT_2).decode() + "\n")


def print_lines(lines: Sequence[str]) -> None:
    sys.stdout.write("\n".join(lines) + "\n")
