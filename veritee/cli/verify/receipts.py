"""``veritee verify receipts FILE.jsonl --evidence E``: a receipt log against attested enclaves."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from attestation.document import AttestationDocument
from verifier.appraisal import Appraisal
from verifier.errors import BadInput
from verifier.evidence import verify_attestation
from verifier.receipts import ReceiptLogReport, read_receipt_lines, verify_receipt_log
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

MAX_LISTED = 50


def register(verbs: Any) -> None:
    parser = verbs.add_parser(
        "receipts",
        help="verify a receipt log (JSONL) against the enclaves' attestation",
        description="Exit codes: 0 verified, 1 verification failed, 2 bad input, 3 could not check.",
    )
    parser.add_argument(
        "file", type=Path, help="receipts, one canonical receipt per line ('-' for stdin)"
    )
    parser.add_argument(
        "--evidence",
        type=Path,
        action="append",
        required=True,
        metavar="E",
        help="an enclave's attestation document (GET /v1/attestation); repeat for several enclaves",
    )
    parser.add_argument(
        "--window",
        action="store_true",
        help="the log is a window of a longer one: it need not start at seq 1",
    )
    add_trust_arguments(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from veritee.cli.verify import json_guarded

    return json_guarded(args, lambda: _run(args))


def _run(args: argparse.Namespace) -> int:
    now = parse_time(args.at)
    policy = policy_from(args)
    appraisals: list[Appraisal] = []
    keysets = []
    for path in args.evidence:
        document = AttestationDocument.from_json(read_input(path))
        appraisal = verify_attestation(
            document,
            roots=roots_for(args, document.evidence.platform),
            policy=policy,
            now=now,
            collateral=collateral_from(args),
        )
        appraisals.append(appraisal)
        keysets.append(document.keyset)
    raw = read_input(args.file)
    if not raw.strip():
        raise BadInput("receipts", f"{args.file} holds no receipts")
    report = verify_receipt_log(
        read_receipt_lines(raw), keysets=keysets, start_seq=None if args.window else 1
    )
    if args.json:
        print_json(
            {
                "verified": report.ok,
                "enclaves": [a.to_dict() for a in appraisals],
                "receipts": report.to_dict(),
            }
        )
    else:
        print_lines(human(report, appraisals))
    if any(p.check == "receipt.malformed" for p in report.problems):
        return 2  # bad input: some lines are not receipts at all (every problem is listed above)
    return 0 if report.ok else 1


def human(report: ReceiptLogReport, appraisals: list[Appraisal]) -> list[str]:
    verdict = "VERIFIED" if report.ok else "FAILED"
    lines = [f"{verdict}: {report.signatures_ok} of {report.total} receipts carry valid signatures"]
    for appraisal in appraisals:
        ev = appraisal.evidence
        lines.append(
            f"  enclave: {ev.platform} evidence signed by {ev.signer} verifies under {appraisal.policy_source}"
        )
        lines += [f"    NOTE {w}" for w in appraisal.warnings]
    for problem in report.problems[:MAX_LISTED]:
        lines.append(f"  FAIL {problem}")
    if len(report.problems) > MAX_LISTED:
        lines.append(
            f"  … and {len(report.problems) - MAX_LISTED} more problems (use --json for all)"
        )
    for signer, chain in report.chains.items():
        state = "complete" if chain.ok else "BROKEN"
        lines.append(
            f"  chain {signer}: seq {chain.first_seq}..{chain.last_seq}, {chain.count} receipts, {state}"
        )
        lines += [f"    FAIL {issue}" for issue in chain.issues[:MAX_LISTED]]
    return lines
