"""Verifying a receipt log against attested keysets.

For every receipt: well formed, signed by the attested key it names, bound to that keyset
(``body.keyset`` is the keyset hash), inside the keyset's validity window. Per signer: the
hash chain (gaps, forks, duplicates, reordering, broken links). Every problem is reported
with the line, receipt id and seq it concerns; verification never stops at the first one.

This is the hot path behind ``veritee verify receipts``: parsing takes the canonical fast
path and signatures are checked against the known key (no recovery), see
``docs/spec/receipt-v1.md``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from attestation.keyset import Keyset
from transcript.chain import ChainReport, check_chain
from transcript.digest import receipt_digest
from transcript.errors import MalformedReceipt, SignatureInvalid
from transcript.keys import PublicKeyVerifier
from transcript.receipt import Receipt, parse_receipt


@dataclass(frozen=True)
class ReceiptProblem:
    """One thing wrong with one receipt (or one line that is not a receipt)."""

    line: int
    check: str
    reason: str
    receipt_id: str | None = None
    seq: int | None = None
    signer: str | None = None  # the key the receipt names, when it parsed

    def __str__(self) -> str:
        where = f"line {self.line}"
        if self.seq is not None:
            where += f", seq {self.seq}"
        if self.receipt_id:
            where += f", receipt {self.receipt_id[:16]}…"
        return f"{where}: {self.check}: {self.reason}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "check": self.check,
            "reason": self.reason,
            "receipt_id": self.receipt_id,
            "seq": self.seq,
        }


@dataclass
class ReceiptLogReport:
    """The outcome of :func:`verify_receipt_log`. ``ok`` only when nothing at all is wrong."""

    total: int = 0
    signatures_ok: int = 0
    problems: list[ReceiptProblem] = field(default_factory=list)
    chains: dict[str, ChainReport] = field(default_factory=dict)
    receipts: list[Receipt] = field(default_factory=list)
    receipt_lines: list[int] = field(default_factory=list)  # the line of each kept receipt

    @property
    def ok(self) -> bool:
        return not self.problems and all(c.ok for c in self.chains.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "total": self.total,
            "signatures_ok": self.signatures_ok,
            "problems": [p.to_dict() for p in self.problems],
            "chains": {
                signer: {
                    "ok": chain.ok,
                    "count": chain.count,
                    "first_seq": chain.first_seq,
                    "last_seq": chain.last_seq,
                    "missing": chain.missing,
                    "issues": [str(i) for i in chain.issues],
                }
                for signer, chain in self.chains.items()
            },
        }


def read_receipt_lines(raw: bytes) -> Iterable[tuple[int, bytes]]:
    """Yield ``(line number, line)`` for every non-blank line of a JSONL receipt log."""
    for number, line in enumerate(raw.split(b"\n"), 1):
        if line.strip():
            yield number, line


def verify_receipt_log(
    lines: Iterable[tuple[int, bytes]],
    *,
    keysets: Iterable[Keyset],
    start_seq: int | None = 1,
    keep_receipts: bool = False,
) -> ReceiptLogReport:
    """Verify every receipt against the attested ``keysets`` (already verified evidence).

    ``start_seq=None`` treats the log as a window (its first seq need not be 1).
    """
    by_address: Mapping[str, tuple[Keyset, str, PublicKeyVerifier]] = {
        k.signing_address: (k, k.hash().hex(), PublicKeyVerifier(k.signing_public_key))
        for k in keysets
    }
    report = ReceiptLogReport()
    per_signer: dict[str, list[Receipt]] = {}
    for number, line in lines:
        report.total += 1
        try:
            receipt = parse_receipt(line)
        except MalformedReceipt as exc:
            report.problems.append(ReceiptProblem(number, "receipt.malformed", str(exc)))
            continue
        body = receipt.body
        known = by_address.get(body.signer)
        if known is None:
            report.problems.append(
                ReceiptProblem(
                    number,
                    "receipt.signer",
                    f"signer {body.signer} is not an attested key",
                    receipt.id,
                    body.seq,
                    body.signer,
                )
            )
            continue
        keyset, keyset_hex, verifier = known
        try:
            verifier.verify(receipt_digest(receipt.body_hash), receipt.signature)
        except SignatureInvalid as exc:
            reason = f"receipt {receipt.id} (seq {body.seq}): {exc}"
            report.problems.append(
                ReceiptProblem(
                    number, "receipt.signature", reason, receipt.id, body.seq, body.signer
                )
            )
            continue
        report.signatures_ok += 1
        if body.keyset != keyset_hex:
            report.problems.append(
                ReceiptProblem(
                    number,
                    "receipt.keyset",
                    "the receipt names another keyset than the attested one",
                    receipt.id,
                    body.seq,
                    body.signer,
                )
            )
        elif not keyset.covers(body.time_ms):
            report.problems.append(
                ReceiptProblem(
                    number,
                    "receipt.validity",
                    "signed outside the keyset's validity window",
                    receipt.id,
                    body.seq,
                    body.signer,
                )
            )
        per_signer.setdefault(body.signer, []).append(receipt)
        if keep_receipts:
            report.receipts.append(receipt)
            report.receipt_lines.append(number)
    for signer, receipts in per_signer.items():
        report.chains[signer] = check_chain(receipts, start_seq=start_seq)
    return report
