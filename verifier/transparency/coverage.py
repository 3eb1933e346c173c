"""Which receipts of one signer are provably inside its checkpointed (or anchored) ranges.

The ranges come from the chain (each anchored checkpoint, read once) or from an audit
bundle's signed checkpoints; either way a range is ``first_seq..last_seq`` with a Merkle
root over the ids of exactly those receipts, in seq order (``docs/spec/checkpoint-v1.md``).
Everything here is local hashing, no I/O:

- a range whose receipts are all present (one per seq) is checked by rebuilding its root:
  one pass over the leaves, and every receipt in it is proven at once;
- otherwise each present receipt is checked with its own Merkle path, when one is given;
- a seq inside ``expect`` (the span the log claims to hold in full) that no receipt has is
  **missing**, named exactly, with the range that proves it existed;
- a receipt past the last range is **not anchored yet**; one whose range cannot be rebuilt
  and that has no path is **unproven**; one whose path or range does not lead to the root
  is **failed**.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from transcript.errors import MalformedProof
from transcript.merkle import MerkleTree, root_from_proof
from transcript.receipt import Receipt

State = Literal["included", "not_anchored", "unproven", "failed"]
STATES: tuple[State, ...] = ("included", "not_anchored", "unproven", "failed")


@dataclass(frozen=True, slots=True)
class Range:
    """A committed range of one signer's receipts. ``label`` names it in reports."""

    first_seq: int
    last_seq: int
    root: bytes
    label: str

    @property
    def size(self) -> int:
        return self.last_seq - self.first_seq + 1


@dataclass(frozen=True, slots=True)
class CoverageIssue:
    """One failure: ``check`` is ``transparency.missing``, ``.root``, ``.proof`` or ``.fork``."""

    check: str
    reason: str
    seq: int | None = None
    receipt_id: str | None = None

    def __str__(self) -> str:
        return f"{self.check}: {self.reason}"


@dataclass
class SignerCoverage:
    """The outcome for one signer: a state per receipt id, and every issue found."""

    signer: str
    states: dict[str, State] = field(default_factory=dict)
    where: dict[str, str] = field(default_factory=dict)  # receipt id -> range label
    missing: list[int] = field(default_factory=list)
    issues: list[CoverageIssue] = field(default_factory=list)
    ranges: int = 0

    @property
    def ok(self) -> bool:
        return not self.issues and all(s != "failed" for s in self.states.values())

    def count(self, state: State) -> int:
        return sum(1 for s in self.states.values() if s == state)


def check_coverage(
    signer: str,
    receipts: Iterable[Receipt],
    ranges: Sequence[Range],
    *,
    proofs: Mapping[str, Sequence[bytes]] | None = None,
    expect: tuple[int, int] | None = None,
    invalid: Iterable[int] = (),
) -> SignerCoverage:
    """Check ``signer``'s ``receipts`` against its ``ranges`` (sorted, non-overlapping).

    ``proofs`` maps a receipt id to its Merkle path in the range that covers it.
    ``expect`` is the seq span the caller's log claims to hold completely (None: none, e.g.
    a view filtered to one tenant, whose gaps are other tenants' receipts). ``invalid``
    are seqs the log holds a receipt for that failed its own checks (a bad signature):
    reported there, so not reported missing here.
    """
    result = SignerCoverage(signer, ranges=len(ranges))
    by_seq: dict[int, list[Receipt]] = {}
    for receipt in receipts:
        group = by_seq.setdefault(receipt.body.seq, [])
        if all(r.body_hash != receipt.body_hash for r in group):
            group.append(receipt)
    paths = proofs or {}
    covered: set[int] = set()
    seen = set(invalid)
    for rng in ranges:
        _check_range(result, rng, by_seq, paths=paths, expect=expect, covered=covered, invalid=seen)
    last = ranges[-1].last_seq if ranges else 0
    for seq, group in by_seq.items():
        if seq in covered:
            continue
        state: State = "not_anchored" if seq > last else "unproven"
        for receipt in group:
            result.states[receipt.id] = state
    result.missing.sort()
    return result


def _check_range(
    result: SignerCoverage,
    rng: Range,
    by_seq: Mapping[int, list[Receipt]],
    *,
    paths: Mapping[str, Sequence[bytes]],
    expect: tuple[int, int] | None,
    covered: set[int],
    invalid: set[int],
) -> None:
    seqs = range(rng.first_seq, rng.last_seq + 1)
    present = [s for s in seqs if s in by_seq]
    if not present and (expect is None or not _overlaps(rng, expect)):
        return
    covered.update(present)
    missing = [s for s in seqs if s not in by_seq and s not in invalid and _inside(s, expect)]
    if missing:
        result.missing.extend(missing)
        for start, end in _runs(missing):
            what = f"seq {start} is" if start == end else f"seq {start}..{end} are"
            result.issues.append(
                CoverageIssue(
                    "transparency.missing",
                    f"{what} missing from the log, inside {rng.label}",
                    seq=start,
                )
            )
    if len(present) == rng.size and all(len(by_seq[s]) == 1 for s in seqs):
        leaves = [by_seq[s][0] for s in seqs]
        tree = MerkleTree([r.body_hash for r in leaves])
        if tree.root == rng.root:
            for index, receipt in enumerate(leaves):
                _mark(result, receipt, "included", rng)
                given = paths.get(receipt.id)
                if given is not None and list(given) != tree.proof(index):
                    _bad_path(result, receipt, rng, "the path given for it is not its path")
            return
        result.issues.append(
            CoverageIssue(
                "transparency.root",
                f"the receipts seq {rng.first_seq}..{rng.last_seq} do not hash to the root of "
                f"{rng.label}: one of them was altered or substituted",
                seq=rng.first_seq,
            )
        )
    _check_each(result, rng, [r for s in present for r in by_seq[s]], paths)
    _name_forks(result, rng, by_seq, present)


def _check_each(
    result: SignerCoverage,
    rng: Range,
    receipts: list[Receipt],
    paths: Mapping[str, Sequence[bytes]],
) -> None:
    """Each receipt on its own, with its Merkle path when there is one."""
    for receipt in receipts:
        path = paths.get(receipt.id)
        if path is None:
            result.states.setdefault(receipt.id, "unproven")
            result.where[receipt.id] = rng.label
            continue
        try:
            root = root_from_proof(
                receipt.body_hash, receipt.body.seq - rng.first_seq, rng.size, path
            )
        except MalformedProof as exc:
            root, detail = b"", f"its Merkle path is malformed ({exc})"
        else:
            detail = "its Merkle path does not lead to the signed root"
        if root == rng.root:
            _mark(result, receipt, "included", rng)
            continue
        _mark(result, receipt, "failed", rng)
        _bad_path(result, receipt, rng, detail)


def _bad_path(result: SignerCoverage, receipt: Receipt, rng: Range, detail: str) -> None:
    result.issues.append(
        CoverageIssue(
            "transparency.proof",
            f"receipt {receipt.id} (seq {receipt.body.seq}): {detail} in {rng.label}",
            seq=receipt.body.seq,
            receipt_id=receipt.id,
        )
    )


def _name_forks(
    result: SignerCoverage, rng: Range, by_seq: Mapping[int, list[Receipt]], present: list[int]
) -> None:
    for seq in present:
        group = by_seq[seq]
        if len(group) < 2:
            continue
        anchored = [r.id for r in group if result.states.get(r.id) == "included"]
        which = f"; the one in the root is {anchored[0]}" if anchored else ""
        result.issues.append(
            CoverageIssue(
                "transparency.fork",
                f"seq {seq} has {len(group)} different receipts inside {rng.label}{which}",
                seq=seq,
            )
        )


def _mark(result: SignerCoverage, receipt: Receipt, state: State, rng: Range) -> None:
    result.states[receipt.id] = state
    result.where[receipt.id] = rng.label


def _inside(seq: int, expect: tuple[int, int] | None) -> bool:
    return expect is not None and expect[0] <= seq <= expect[1]


def _overlaps(rng: Range, expect: tuple[int, int]) -> bool:
    return rng.first_seq <= expect[1] and expect[0] <= rng.last_seq


def _runs(seqs: list[int]) -> list[tuple[int, int]]:
    runs: list[tuple[int, int]] = []
    for seq in seqs:
        if runs and runs[-1][1] == seq - 1:
            runs[-1] = (runs[-1][0], seq)
        else:
            runs.append((seq, seq))
    return runs


def group_by_signer(receipts: Iterable[Receipt]) -> dict[str, list[Receipt]]:
    out: dict[str, list[Receipt]] = {}
    for receipt in receipts:
        out.setdefault(receipt.body.signer, []).append(receipt)
    return out
