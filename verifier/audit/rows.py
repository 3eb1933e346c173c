"""The verdict for each transcript (receipt) of a bundle, one row per line of receipts.jsonl.

Built for large bundles: receipts that verified are not parsed again (only failed lines
are, to show what they say), and the inclusion sentence is made once per checkpoint and
shared by its receipts.
"""

from __future__ import annotations

from collections import Counter

from transcript.checkpoint import SignedCheckpoint
from transcript.errors import MalformedReceipt
from transcript.receipt import parse_receipt
from verifier.audit.commitments import checkpoint_range
from verifier.audit.report import ReceiptRow
from verifier.receipts import ReceiptLogReport
from verifier.transparency.coverage import SignerCoverage

NOT_CHECKPOINTED = "not checkpointed yet: no checkpoint in the bundle covers it"
#: How a receipt's inclusion state is counted (the row's inclusion text starts the same).
LABELS = {"included": "included", "not_anchored": "not checkpointed yet", "unproven": "unproven"}


def tally(log: ReceiptLogReport, coverage: dict[str, SignerCoverage]) -> Counter[str]:
    """Receipts by inclusion (``failed`` when anything is wrong with one), plus ``ok`` and
    ``total``: the report's summary, without building a row per receipt."""
    problems = _problems(log, coverage)
    counts: Counter[str] = Counter()
    for receipt in log.receipts:
        rid = receipt.id
        if rid in problems:
            counts["failed"] += 1
            continue
        counts["ok"] += 1
        state = coverage[receipt.body.signer].states.get(rid, "unproven")
        counts[LABELS.get(state, state)] += 1
    kept = set(log.receipt_lines)
    failed_lines = {p.line for p in log.problems if p.line not in kept}
    if failed_lines:
        counts["failed"] += len(failed_lines)
    counts["total"] = len(log.receipts) + len(failed_lines)
    return counts


def receipt_rows(
    raw: bytes,
    log: ReceiptLogReport,
    coverage: dict[str, SignerCoverage],
    checkpoints: dict[str, list[SignedCheckpoint]],
    anchoring: dict[tuple[str, int], str],
) -> list[ReceiptRow]:
    """One row per receipt line, in line order."""
    problems = _problems(log, coverage)
    included = {
        (signer, checkpoint_range(cp).label): (
            f"included: in {checkpoint_range(cp).label}; "
            f"{anchoring.get((signer, cp.checkpoint.first_seq), 'not anchored')}"
        )
        for signer, cps in checkpoints.items()
        for cp in cps
    }
    rows: list[ReceiptRow] = []
    kept: set[int] = set()
    for receipt, number in zip(log.receipts, log.receipt_lines, strict=True):
        kept.add(number)
        rid = receipt.id
        body = receipt.body
        signer = body.signer
        found = problems.get(rid)
        if found:
            inclusion = "failed"
        else:
            cov = coverage[signer]
            state = cov.states.get(rid, "unproven")
            if state == "included":
                inclusion = included[(signer, cov.where[rid])]
            elif state == "not_anchored":
                inclusion = NOT_CHECKPOINTED
            else:
                inclusion = f"{state}: {cov.where.get(rid, 'no checkpoint')}"
        rows.append(
            ReceiptRow(number, rid, signer, body.seq, body.time_ms, body.model, body.status,
                       not found, inclusion, found or [])
        )  # fmt: skip
    rows += _failed_rows(raw, log, kept)
    rows.sort(key=lambda r: r.line)
    return rows


def _problems(log: ReceiptLogReport, coverage: dict[str, SignerCoverage]) -> dict[str, list[str]]:
    problems: dict[str, list[str]] = {}
    for p in log.problems:
        if p.receipt_id is not None:
            problems.setdefault(p.receipt_id, []).append(f"{p.check}: {p.reason}")
    for cov in coverage.values():
        for issue in cov.issues:
            if issue.receipt_id is not None:
                problems.setdefault(issue.receipt_id, []).append(str(issue))
        for rid, state in cov.states.items():
            if state == "unproven":
                problems.setdefault(rid, []).append(
                    "transparency.unproven: no checkpoint proves it"
                )
    return problems


def _failed_rows(raw: bytes, log: ReceiptLogReport, kept: set[int]) -> list[ReceiptRow]:
    """Rows for the lines whose receipt did not verify at all (parsed again, to show them)."""
    by_line: dict[int, list[str]] = {}
    for p in log.problems:
        if p.line not in kept:
            by_line.setdefault(p.line, []).append(f"{p.check}: {p.reason}")
    if not by_line:
        return []
    lines = raw.split(b"\n")
    rows = []
    for number, reasons in by_line.items():
        row = ReceiptRow(number, "", None, None, None, None, None, False, "failed", reasons)
        try:
            parsed = parse_receipt(lines[number - 1])
        except MalformedReceipt:
            rows.append(row)
            continue
        body = parsed.body
        row.receipt_id, row.signer, row.seq = parsed.id, body.signer, body.seq
        row.time_ms, row.model, row.status = body.time_ms, body.model, body.status
        rows.append(row)
    return rows
