"""``veritee verify receipts FILE.jsonl --evidence E [--rpc URL --contract ADDR]``.

A receipt log against attested enclaves; with ``--rpc``, also against the anchor chain: every
anchored checkpoint is read once per signer and every receipt checked locally against it
(``verifier.transparency``), so the RPC cost does not grow with the number of receipts.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from attestation.document import AttestationDocument
from transcript.keys import parse_address
from verifier.appraisal import Appraisal
from verifier.errors import BadInput
from verifier.evidence import verify_attestation
from verifier.receipts import ReceiptLogReport, read_receipt_lines, verify_receipt_log
from verifier.transparency.logcheck import (
    AnchoringReport,
    check_log_against_chain,
    read_inclusion_proofs,
    signers_of,
)
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
    chain = parser.add_argument_group("anchoring (optional: needs the network)")
    chain.add_argument(
        "--rpc", metavar="URL", help="check inclusion against this chain (http(s)://...)"
    )
    chain.add_argument(
        "--contract", metavar="ADDR", help="the TranscriptAnchor address you trust (with --rpc)"
    )
    chain.add_argument(
        "--proofs",
        type=Path,
        metavar="F",
        help="inclusion proofs (JSONL, veritee.inclusion.v1) for receipts whose range is incomplete",
    )
    chain.add_argument(
        "--confirmations", type=int, default=1, metavar="N", help="blocks deep (default 1)"
    )
    chain.add_argument(
        "--from-block", type=int, default=0, metavar="N", help="the anchor's deployment block"
    )
    chain.add_argument(
        "--require-anchored",
        action="store_true",
        help="fail unless every receipt is proven anchored (default: report the tail)",
    )
    add_trust_arguments(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from veritee.cli.verify import json_guarded

    return json_guarded(args, lambda: _run(args))


def _run(args: argparse.Namespace) -> int:
    if args.rpc is None and (args.contract or args.proofs or args.require_anchored):
        raise BadInput("anchor.rpc", "--contract, --proofs and --require-anchored need --rpc")
    if args.rpc is not None and not args.contract:
        raise BadInput("anchor.contract", "--rpc needs --contract: the anchor address you trust")
    now = parse_time(args.at)
    policy = policy_from(args)
    appraisals: list[Appraisal] = []
    keysets = []
    for path in args.evidence:
        document = AttestationDocument.from_json(read_input(path))
        # A document that answers a verifier's nonce (as the gateway keeps them) still binds
        # its keyset; offline, the nonce's freshness is simply not what is being checked.
        appraisal = verify_attestation(
            document,
            roots=roots_for(args, document.evidence.platform),
            policy=policy,
            now=now,
            collateral=collateral_from(args),
            nonce=document.nonce,
        )
        appraisals.append(appraisal)
        keysets.append(document.keyset)
    proofs = (
        read_inclusion_proofs(read_input(args.proofs), str(args.proofs)) if args.proofs else None
    )
    raw = read_input(args.file)
    if not raw.strip():
        raise BadInput("receipts", f"{args.file} holds no receipts")
    report = verify_receipt_log(
        read_receipt_lines(raw),
        keysets=keysets,
        start_seq=None if args.window else 1,
        keep_receipts=args.rpc is not None,
    )
    anchoring = None
    if args.rpc is not None:
        anchoring = _against_chain(args, report, proofs)
    ok = report.ok and (anchoring is None or anchoring.ok(require_anchored=args.require_anchored))
    if args.json:
        payload = {
            "verified": ok,
            "enclaves": [a.to_dict() for a in appraisals],
            "receipts": report.to_dict(),
        }
        if anchoring is not None:
            payload["anchoring"] = anchoring.to_dict()
        print_json(payload)
    else:
        lines = human(report, appraisals)
        if anchoring is not None:
            lines += anchoring_lines(anchoring, args.require_anchored)
        if not ok and report.ok:
            lines[0] = lines[0].replace("VERIFIED", "FAILED", 1)
        print_lines(lines)
    if any(p.check == "receipt.malformed" for p in report.problems):
        return 2  # bad input: some lines are not receipts at all (every problem is listed above)
    return 0 if ok else 1


def _against_chain(
    args: argparse.Namespace,
    report: ReceiptLogReport,
    proofs: dict[str, tuple[bytes, ...]] | None,
) -> AnchoringReport:
    from verifier.anchor import connect
    from verifier.transparency.chain import read_chain

    if args.confirmations < 1:
        raise BadInput("anchor.confirmations", "--confirmations is at least 1")
    try:
        contract = parse_address(args.contract)
    except ValueError as exc:
        raise BadInput("anchor.contract", f"--contract: {exc}") from None
    view = read_chain(
        connect(args.rpc),
        anchor=contract,
        signers=signers_of(report.receipts),
        from_block=args.from_block,
        min_confirmations=args.confirmations,
    )
    return check_log_against_chain(report.receipts, view, window=args.window, proofs=proofs)


def anchoring_lines(anchoring: AnchoringReport, require_anchored: bool) -> list[str]:
    view = anchoring.view
    lines = [
        f"  anchor {view.anchor} on chain {view.chain_id} (block {view.at_block}), "
        f"registry {view.registry}:"
    ]
    for signer, coverage in anchoring.signers.items():
        history = view.histories[signer]
        tail = coverage.count("not_anchored")
        state = "complete" if coverage.ok else "BROKEN"
        lines.append(
            f"  anchoring {signer}: {coverage.count('included')} receipts proven in "
            f"{len(history.entries)} anchored checkpoints (seq 1..{history.last_seq}), {state}"
        )
        if tail:
            word = "FAIL" if require_anchored else "NOTE"
            lines.append(
                f"    {word} {tail} receipts are not anchored yet (seq > {history.last_seq})"
            )
        unproven = coverage.count("unproven")
        if unproven:
            word = "FAIL" if require_anchored else "NOTE"
            lines.append(
                f"    {word} {unproven} receipts could not be proven included "
                "(their range is incomplete here: give --proofs)"
            )
        if view.enclaves[signer].revoked_at or view.enclaves[signer].measurement_revoked_at:
            lines.append(f"    NOTE {signer} has been revoked in the registry since")
        lines += [f"    FAIL {issue}" for issue in coverage.issues[:MAX_LISTED]]
        if len(coverage.issues) > MAX_LISTED:
            lines.append(f"    … and {len(coverage.issues) - MAX_LISTED} more (use --json)")
    return lines


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
