"""``veritee policy init --from EVIDENCE``: write a policy pinning what the evidence shows."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from verifier.evidence import verify_evidence
from verifier.loading import load_evidence
from verifier.policy import Policy
from verifier.policy_writer import pinning_policy
from veritee.cli.common import (
    add_trust_arguments,
    collateral_from,
    parse_time,
    read_input,
    roots_for,
)


def register(sub: Any) -> None:
    parser = sub.add_parser("policy", help="write verification policies")
    verbs = parser.add_subparsers(dest="verb", metavar="VERB")
    init = verbs.add_parser(
        "init",
        help="write a policy that pins the measurements of verified evidence",
        description="The evidence must verify first; the policy then pins its platform, "
        "measurements and TCB. Exit codes as for `veritee verify`.",
    )
    init.add_argument("--from", dest="source", type=Path, required=True, metavar="EVIDENCE")
    init.add_argument("--out", type=Path, metavar="P", help="where to write (default: stdout)")
    init.add_argument("--vcek", type=Path, metavar="F", help="SEV-SNP: the VCEK certificate")
    add_trust_arguments(init)
    init.set_defaults(handler=run)
    parser.set_defaults(handler=lambda _args: parser.print_help(sys.stderr) or 2)


def run(args: argparse.Namespace) -> int:
    from cryptography.hazmat.primitives.serialization import Encoding

    from verifier.trust import load_certificates

    certificates = {}
    if args.vcek:
        cert = load_certificates(args.vcek.read_bytes(), str(args.vcek))[0]
        certificates["vcek"] = cert.public_bytes(Encoding.DER)
    loaded = load_evidence(read_input(args.source), certificates=certificates)
    verified = verify_evidence(
        loaded.evidence,
        roots=roots_for(args, loaded.evidence.platform),
        now=parse_time(args.at),
        collateral=collateral_from(args),
    )
    text = pinning_policy(verified, source=str(args.source))
    Policy.from_toml(text, source="the written policy")  # what we write must parse back
    if args.out is None:
        sys.stdout.write(text)
    else:
        args.out.write_text(text)
        print(f"wrote {args.out}", file=sys.stderr)
    return 0
