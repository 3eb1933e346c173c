"""Coverage: which receipts are provably inside which committed ranges; what is missing."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.helpers.transparency import PaperEnclave
from transcript import MerkleTree, ReceiptBody, sign_receipt
from verifier.transparency import Range, check_coverage

ENCLAVE = PaperEnclave("coverage")
RECEIPTS = ENCLAVE.sign(40)


def ranges_for(*bounds: tuple[int, int]) -> tuple[list[Range], dict[str, tuple[bytes, ...]]]:
    """Ranges over RECEIPTS' seqs (1-based, inclusive), and every receipt's path."""
    ranges, paths = [], {}
    for first, last in bounds:
        leaves = RECEIPTS[first - 1 : last]
        tree = MerkleTree([r.body_hash for r in leaves])
        ranges.append(Range(first, last, tree.root, f"range {first}..{last}"))
        for index, receipt in enumerate(leaves):
            paths[receipt.id] = tuple(tree.proof(index))
    return ranges, paths


def test_complete_ranges_are_proven_whole_and_the_tail_is_not_anchored() -> None:
    ranges, _ = ranges_for((1, 10), (11, 12), (13, 30))
    result = check_coverage(ENCLAVE.address, RECEIPTS, ranges, expect=(1, 30))
    assert result.ok and result.missing == []
    assert result.count("included") == 30 and result.count("not_anchored") == 10
    assert result.where[RECEIPTS[11].id] == "range 11..12"


def test_missing_seqs_are_named_exactly() -> None:
    ranges, paths = ranges_for((1, 10), (11, 20))
    kept = [r for r in RECEIPTS if r.body.seq not in (3, 4, 15)]
    result = check_coverage(ENCLAVE.address, kept, ranges, expect=(1, 20), proofs=paths)
    assert result.missing == [3, 4, 15]
    reasons = [i.reason for i in result.issues]
    assert reasons == [
        "seq 3..4 are missing from the log, inside range 1..10",
        "seq 15 is missing from the log, inside range 11..20",
    ]
    assert result.count("included") == 17  # the others, each by its own path


def test_without_paths_an_incomplete_range_proves_nothing() -> None:
    ranges, _ = ranges_for((1, 10))
    kept = [r for r in RECEIPTS[:10] if r.body.seq != 5]
    result = check_coverage(ENCLAVE.address, kept, ranges, expect=(1, 10))
    assert result.missing == [5] and result.count("unproven") == 9


def test_a_substituted_receipt_is_named_by_its_path() -> None:
    ranges, paths = ranges_for((1, 8))
    twin = RECEIPTS[4].body.to_dict()
    twin["model"] = "substituted"
    substitute = sign_receipt(ENCLAVE.key, ReceiptBody.from_dict(twin))
    log = [*RECEIPTS[:4], substitute, *RECEIPTS[5:8]]
    paths[substitute.id] = paths[RECEIPTS[4].id]
    result = check_coverage(ENCLAVE.address, log, ranges, expect=(1, 8), proofs=paths)
    assert [i.check for i in result.issues] == ["transparency.root", "transparency.proof"]
    assert substitute.id in result.issues[1].reason
    assert result.states[substitute.id] == "failed" and result.count("included") == 7


def test_a_fork_names_the_receipt_in_the_root() -> None:
    ranges, paths = ranges_for((1, 6))
    twin = RECEIPTS[2].body.to_dict()
    twin["status"] = "truncated"
    fork = sign_receipt(ENCLAVE.key, ReceiptBody.from_dict(twin))
    result = check_coverage(
        ENCLAVE.address, [*RECEIPTS[:6], fork], ranges, expect=(1, 6), proofs=paths
    )
    (issue,) = [i for i in result.issues if i.check == "transparency.fork"]
    assert issue.reason == (
        f"seq 3 has 2 different receipts inside range 1..6; the one in the root is {RECEIPTS[2].id}"
    )
    assert result.states[fork.id] == "unproven"


def test_a_path_that_is_not_the_receipts_own_is_named_even_when_the_root_holds() -> None:
    ranges, paths = ranges_for((1, 4))
    paths[RECEIPTS[1].id] = paths[RECEIPTS[0].id]
    result = check_coverage(ENCLAVE.address, RECEIPTS[:4], ranges, expect=(1, 4), proofs=paths)
    (issue,) = result.issues
    assert issue.check == "transparency.proof" and issue.receipt_id == RECEIPTS[1].id


def test_seqs_held_by_invalid_receipts_are_not_called_missing() -> None:
    ranges, paths = ranges_for((1, 5))
    log = [r for r in RECEIPTS[:5] if r.body.seq != 2]
    result = check_coverage(ENCLAVE.address, log, ranges, expect=(1, 5), proofs=paths, invalid=[2])
    assert result.missing == [] and result.count("included") == 4


@settings(max_examples=60, deadline=None)
@given(
    cuts=st.lists(st.integers(1, 39), unique=True, max_size=6).map(sorted),
    deleted=st.sets(st.integers(1, 40), max_size=8),
    with_paths=st.booleans(),
)
def test_missing_is_exactly_what_was_deleted_inside_the_ranges(
    cuts: list[int], deleted: set[int], with_paths: bool
) -> None:
    bounds = list(zip([1, *(c + 1 for c in cuts)], [*cuts, 40], strict=True))[:-1] or [(1, 20)]
    ranges, paths = ranges_for(*bounds)
    last = bounds[-1][1]
    kept = [r for r in RECEIPTS if r.body.seq not in deleted]
    result = check_coverage(
        ENCLAVE.address, kept, ranges, expect=(1, last), proofs=paths if with_paths else None
    )
    assert result.missing == sorted(s for s in deleted if s <= last)
    beyond = sum(1 for r in kept if r.body.seq > last)
    assert result.count("not_anchored") == beyond
    complete_or_proven = with_paths or not any(s <= last for s in deleted)
    if complete_or_proven:
        assert result.count("included") == len(kept) - beyond
    assert result.count("failed") == 0
