"""Hash-chain checks over the receipts of one signing key.

Receipts of one key carry ``seq`` (1, 2, 3, ...) and ``prev`` (the id of the receipt with
``seq - 1``). :func:`check_chain` reads them in the order given and reports every
irregularity precisely, rather than stopping at the first:

- ``Gap``: sequence numbers that are absent (``missing_from..missing_to``);
- ``Duplicate``: the same receipt (same id) more than once;
- ``Fork``: two different receipts with the same ``seq``;
- ``Reordered``: a receipt that appears after one with a higher ``seq``;
- ``BrokenLink``: ``prev`` that is not the id of the receipt with ``seq - 1``;
- ``ForeignSigner``: a receipt of another key mixed into this chain.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from transcript.receipt import Receipt


@dataclass(frozen=True, slots=True)
class Gap:
    missing_from: int
    missing_to: int

    def __str__(self) -> str:
        if self.missing_from == self.missing_to:
            return f"seq {self.missing_from} is missing"
        return f"seq {self.missing_from}..{self.missing_to} are missing"


@dataclass(frozen=True, slots=True)
class Duplicate:
    seq: int
    id: str

    def __str__(self) -> str:
        return f"seq {self.seq} (receipt {self.id}) appears more than once"


@dataclass(frozen=True, slots=True)
class Fork:
    seq: int
    ids: tuple[str, ...]

    def __str__(self) -> str:
        return f"seq {self.seq} has {len(self.ids)} different receipts: {', '.join(self.ids)}"


@dataclass(frozen=True, slots=True)
class Reordered:
    seq: int
    after_seq: int

    def __str__(self) -> str:
        return f"seq {self.seq} appears after seq {self.after_seq}"


@dataclass(frozen=True, slots=True)
class BrokenLink:
    seq: int
    expected_prev: str
    actual_prev: str

    def __str__(self) -> str:
        return (
            f"seq {self.seq} links to {self.actual_prev}, "
            f"but receipt seq {self.seq - 1} is {self.expected_prev}"
        )


@dataclass(frozen=True, slots=True)
class ForeignSigner:
    seq: int
    signer: str

    def __str__(self) -> str:
        return f"seq {self.seq} is signed by another key, {self.signer}"


ChainIssue = Gap | Duplicate | Fork | Reordered | BrokenLink | ForeignSigner


@dataclass(frozen=True, slots=True)
class ChainReport:
    """The outcome of :func:`check_chain`. ``ok`` when there is no issue at all."""

    signer: str | None
    count: int
    first_seq: int | None
    last_seq: int | None
    issues: tuple[ChainIssue, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return not self.issues

    @property
    def missing(self) -> list[int]:
        """Every missing seq number, expanded."""
        return [
            s
            for gap in self.issues
            if isinstance(gap, Gap)
            for s in range(gap.missing_from, gap.missing_to + 1)
        ]


def check_chain(receipts: Iterable[Receipt], *, start_seq: int | None = 1) -> ChainReport:
    """Check the receipts of one signer, given in log order.

    ``start_seq`` is the seq the log should begin at (1 for a key's whole history). Pass
    ``None`` for a window of a longer log: the first receipt's seq is then taken as the
    start and its ``prev`` cannot be checked.
    """
    issues: list[ChainIssue] = []
    by_seq: dict[int, list[Receipt]] = {}
    signer: str | None = None
    highest = 0
    count = 0
    for receipt in receipts:
        count += 1
        seq = receipt.body.seq
        if signer is None:
            signer = receipt.body.signer
        elif receipt.body.signer != signer:
            issues.append(ForeignSigner(seq, receipt.body.signer))
            continue
        seen = by_seq.setdefault(seq, [])
        if any(r.body_hash == receipt.body_hash for r in seen):
            issues.append(Duplicate(seq, receipt.id))
            continue
        seen.append(receipt)
        if seq < highest:
            issues.append(Reordered(seq, highest))
        highest = max(highest, seq)
    if not by_seq:
        return ChainReport(signer, count, None, None, tuple(issues))

    seqs = sorted(by_seq)
    expected = seqs[0] if start_seq is None else min(start_seq, seqs[0])
    for seq in seqs:
        if seq > expected:
            issues.append(Gap(expected, seq - 1))
        expected = seq + 1
        group = by_seq[seq]
        if len(group) > 1:
            issues.append(Fork(seq, tuple(r.id for r in group)))
        parents = by_seq.get(seq - 1)
        if parents is None:
            continue
        parent_ids = {r.id for r in parents}
        for receipt in group:
            if receipt.body.prev not in parent_ids:
                issues.append(BrokenLink(seq, sorted(parent_ids)[0], receipt.body.prev))
    issues.sort(key=_issue_seq)
    return ChainReport(signer, count, seqs[0], seqs[-1], tuple(issues))


def _issue_seq(issue: ChainIssue) -> int:
    return issue.missing_from if isinstance(issue, Gap) else issue.seq
