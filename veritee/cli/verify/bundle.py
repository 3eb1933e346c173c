"""``veritee verify bundle BUNDLE.tar [--rpc URL --contract ADDR] [--html report.html]``.

Verifies an audit bundle offline (``verifier.audit``): the enclaves' evidence under the
bundle's policy (or ``--policy``) and the roots *you* give (``--roots``; by default the
shipped vendor roots: simulated roots are never trusted because a bundle holds them), every
receipt, the checkpoints, Merkle inclusion and completeness. Only ``--rpc`` needs the
network: it checks each checkpoint against the anchor you name with ``--contract``.

Exit codes: 0 verified, 1 a check failed, 2 a malformed bundle or bad arguments, 3 could
not check (chain unreachable, collateral missing).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from transcript.keys import parse_address
from verifier.audit import BundleReport, read_bundle, verify_bundle
from verifier.errors import BadInput
from veritee.cli.common import print_json, print_lines, roots_for
from veritee.cli.progress import ProgressBar

MAX_LISTED = 50


def register(verbs: Any) -> None:
    parser = verbs.add_parser(
        "bundle",
        help="verify an audit bundle (veritee audit export) offline, optionally on chain",
        description=__doc__.split("\n\n", 1)[1] if __doc__ else None,
    )
    parser.add_argument("file", type=Path, help="the bundle (.tar, or .tar.gz)")
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--product", choices=("milan", "genoa", "turin"), help="SEV-SNP: AMD's roots for it"
    )
    group.add_argument(
        "--roots",
        type=Path,
        action="append",
        metavar="DIR|FILE",
        help="trust these root certificates (PEM/DER) instead of the shipped ones",
    )
    parser.add_argument(
        "--policy", type=Path, metavar="P", help="use this policy, not the bundle's"
    )
    parser.add_argument("--rpc", metavar="URL", help="check anchoring on this chain")
    parser.add_argument("--contract", metavar="ADDR", help="the TranscriptAnchor you trust")
    parser.add_argument("--confirmations", type=int, default=1, metavar="N")
    parser.add_argument("--from-block", type=int, default=0, metavar="N")
    parser.add_argument("--html", type=Path, metavar="FILE", help="also write an HTML report")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from veritee.cli.verify import json_guarded

    return json_guarded(args, lambda: _run(args))


def _run(args: argparse.Namespace) -> int:
    if (args.rpc is None) != (args.contract is None):
        raise BadInput("anchor.contract", "--rpc and --contract go together")
    policy = None
    if args.policy is not None:
        from verifier.policy import Policy

        policy = Policy.load(args.policy)
    bundle = read_bundle(args.file)
    chain = _chain(args, bundle) if args.rpc is not None else None
    bar = ProgressBar("verifying receipts")
    try:
        report = verify_bundle(
            bundle,
            roots_for=lambda platform: roots_for(args, platform),
            policy=policy,
            chain=chain,
            progress=bar,
            rows=bool(args.json or args.html),
        )
    finally:
        bar.close()
    if args.html is not None:
        from verifier.audit.html import render_html

        args.html.write_text(render_html(report), encoding="utf-8")
    if args.json:
        print_json(report.to_dict())
    else:
        print_lines(human(report, args))
    if report.failures:
        return 1
    return 3 if report.unchecked else 0


def _chain(args: argparse.Namespace, bundle: Any) -> Any:
    from verifier.anchor import connect
    from verifier.audit.commitments import read_checkpoints
    from verifier.transparency.chain import read_chain

    try:
        contract = parse_address(args.contract)
    except ValueError as exc:
        raise BadInput("anchor.contract", f"--contract: {exc}") from None
    if args.confirmations < 1:
        raise BadInput("anchor.confirmations", "--confirmations is at least 1")
    try:
        signers = {
            c.checkpoint.signer
            for c in read_checkpoints(bundle.files.get("checkpoints.jsonl", b""))
        }
    except BadInput:
        signers = set()  # reported by the verification itself
    return read_chain(
        connect(args.rpc),
        anchor=contract,
        signers=signers,
        from_block=args.from_block,
        min_confirmations=args.confirmations,
    )


def human(report: BundleReport, args: argparse.Namespace) -> list[str]:
    s = report.summary()
    if report.failures:
        verdict = "FAILED"
    elif report.unchecked:
        verdict = "COULD NOT CHECK"
    else:
        verdict = "VERIFIED"
    chain = (
        "not checked (offline)"
        if report.chain is None
        else f"checked on chain {report.chain['chain_id']} at {report.chain['anchor']}"
    )
    lines = [
        f"{verdict}: {args.file}: {s['receipts_ok']} of {s['receipts']} receipts verified, "
        f"{s['enclaves_ok']} of {s['enclaves']} enclaves, {s['checkpoints']} checkpoints "
        f"({s['anchored_checkpoints']} anchored; anchoring {chain})",
        f"  tenant: {report.manifest.tenant or 'all'}; policy: {report.policy_source}",
    ]
    for e in report.enclaves:
        lines.append(f"  enclave {e.enclave} {e.signer}: {'ok' if e.ok else 'FAILED'}: {e.detail}")
        lines += [f"    NOTE {w}" for w in e.warnings]
    inclusion = ", ".join(f"{n} {state}" for state, n in s["inclusion"].items())
    lines.append(f"  receipts: {inclusion or 'none'}")
    for failure in report.failures[:MAX_LISTED]:
        lines.append(f"  FAIL {failure}")
    if len(report.failures) > MAX_LISTED:
        lines.append(f"  … and {len(report.failures) - MAX_LISTED} more (--json or --html)")
    lines += [f"  COULD NOT CHECK {u}" for u in report.unchecked]
    lines += [f"  NOTE {n}" for n in report.notes]
    if args.html is not None:
        lines.append(f"  report: {args.html}")
    return lines
