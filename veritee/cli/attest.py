"""``veritee attest``: obtain evidence for 64 bytes of report data and write it as JSON."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from attestation.errors import InvalidReportData
from attestation.registry import FACTORIES, create_provider

DEFAULT_STATE = Path(".veritee/state")


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "attest",
        help="obtain attestation evidence binding REPORT_DATA",
        description="Writes evidence JSON (veritee.evidence.v1), which `veritee verify evidence` reads.",
    )
    parser.add_argument("--platform", required=True, choices=[*sorted(FACTORIES), "auto"])
    parser.add_argument(
        "--report-data", required=True, metavar="HEX", help="exactly 64 bytes as 128 hex digits"
    )
    parser.add_argument("--out", type=Path, metavar="FILE", help="where to write (default: stdout)")
    parser.add_argument(
        "--state",
        type=Path,
        default=DEFAULT_STATE,
        metavar="DIR",
        help=f"simulated platforms: where their local roots live (default {DEFAULT_STATE}); verify with --roots DIR",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    try:
        report_data = bytes.fromhex(args.report_data)
    except ValueError:
        raise InvalidReportData("--report-data must be hex") from None
    if len(report_data) != 64:
        raise InvalidReportData(
            f"--report-data must be exactly 64 bytes (128 hex digits), got {len(report_data)}"
        )
    provider = create_provider(args.platform, state_dir=args.state)
    evidence = provider.get_evidence(report_data)
    payload = evidence.to_json()
    if args.out is None:
        sys.stdout.write(payload.decode() + "\n")
    else:
        args.out.write_bytes(payload + b"\n")
        print(
            f"wrote {evidence.platform} evidence from {provider.name} to {args.out}",
            file=sys.stderr,
        )
    return 0
