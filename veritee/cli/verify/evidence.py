"""``veritee verify evidence FILE``: check attestation evidence and apply a policy."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.serialization import Encoding

from verifier.appraisal import Appraisal, appraise
from verifier.evidence import verify_evidence
from verifier.loading import load_evidence
from verifier.trust import load_certificates
from veritee.cli.common import (
    add_trust_arguments,
    collateral_from,
    parse_time,
    policy_from,
    print_json,
    print_lines,
    read_input,
    roots_for,
)

PLATFORM_CHOICES = ("auto", "sev-snp", "tdx", "nitro", "vtpm")


def register(verbs: Any) -> None:
    parser = verbs.add_parser(
        "evidence",
        help="verify attestation evidence (SEV-SNP, TDX, Nitro, vTPM)",
        description="Exit codes: 0 verified, 1 verification failed, 2 bad input, 3 could not check.",
    )
    parser.add_argument(
        "file",
        type=Path,
        help="evidence: attestation JSON, evidence JSON or raw report/quote/document ('-' for stdin)",
    )
    parser.add_argument("--platform", choices=PLATFORM_CHOICES, default="auto")
    parser.add_argument(
        "--vcek", type=Path, metavar="F", help="SEV-SNP: the VCEK (or VLEK) certificate, DER or PEM"
    )
    add_trust_arguments(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from veritee.cli.verify import json_guarded

    return json_guarded(args, lambda: _run(args))


def _run(args: argparse.Namespace) -> int:
    certificates: dict[str, bytes] = {}
    if args.vcek:
        cert = load_certificates(args.vcek.read_bytes(), str(args.vcek))[0]
        certificates["vcek"] = cert.public_bytes(Encoding.DER)
    loaded = load_evidence(read_input(args.file), platform=args.platform, certificates=certificates)
    platform = loaded.evidence.platform
    verified = verify_evidence(
        loaded.evidence,
        roots=roots_for(args, platform),
        now=parse_time(args.at),
        collateral=collateral_from(args),
    )
    result = appraise(verified, policy_from(args), keyset=loaded.keyset, nonce=loaded.nonce)
    if args.json:
        print_json(result.to_dict())
    else:
        print_lines(human(result))
    return 0


def human(result: Appraisal) -> list[str]:
    ev = result.evidence
    lines = [
        f"VERIFIED: {ev.platform} evidence signed by {ev.signer}, checked at {ev.checked_at.isoformat()}"
    ]
    lines += [f"  ok  {c.name}: {c.detail}" for c in ev.checks]
    lines.append(f"policy: {result.policy_source}")
    lines += [f"  ok  {c.name}: {c.detail}" for c in result.checks]
    lines += [f"  NOTE {w}" for w in result.warnings]
    lines.append("claims:")
    lines += [f"  {name} = {value}" for name, value in sorted(ev.measurements.items())]
    lines.append(f"  debug = {str(ev.debug).lower()}")
    lines += [f"  tcb.{name} = {value}" for name, value in sorted(ev.tcb.items())]
    lines.append(f"  report_data = {ev.report_data.hex()}")
    return lines
