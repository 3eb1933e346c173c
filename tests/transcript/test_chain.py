"""check_chain reports every gap, fork, duplicate, reordering and broken link precisely."""

from __future__ import annotations

import hashlib

from tests.transcript.helpers import KEY, make_body, make_chain
from transcript import SigningKey, check_chain, sign_receipt
from transcript.chain import BrokenLink, Duplicate, ForeignSigner, Fork, Gap, Reordered


def test_a_whole_chain_is_ok() -> None:
    report = check_chain(make_chain(10))
    assert report.ok
    assert (report.count, report.first_seq, report.last_seq) == (10, 1, 10)
    assert report.signer == KEY.address


def test_gaps_are_exact_ranges() -> None:
    chain = make_chain(10)
    report = check_chain([r for r in chain if r.body.seq not in (3, 6, 7)])
    assert Gap(3, 3) in report.issues
    assert Gap(6, 7) in report.issues
    assert report.missing == [3, 6, 7]
    assert not any(isinstance(i, BrokenLink) for i in report.issues)  # the links present are fine
    assert str(Gap(6, 7)) == "seq 6..7 are missing"


def test_missing_head_is_a_gap_from_one_unless_windowed() -> None:
    chain = make_chain(6)
    assert check_chain(chain[2:]).missing == [1, 2]
    assert check_chain(chain[2:], start_seq=None).ok


def test_missing_tail_is_invisible_to_the_chain_alone() -> None:
    # Only checkpoints (anchored seq ranges) reveal a dropped tail; the chain cannot.
    assert check_chain(make_chain(6)[:-2]).ok


def test_duplicate() -> None:
    chain = make_chain(4)
    report = check_chain([*chain, chain[1]])
    # A repeated receipt is reported once, as what it is: not also as a reordering.
    assert report.issues == (Duplicate(2, chain[1].id),)


def test_fork_and_the_broken_link_it_causes() -> None:
    chain = make_chain(4)
    alt = sign_receipt(KEY, make_body(3, chain[1].id, model="another-model"))
    report = check_chain([*chain[:3], alt, chain[3]])
    forks = [i for i in report.issues if isinstance(i, Fork)]
    assert forks == [Fork(3, (chain[2].id, alt.id))]
    assert not [i for i in report.issues if isinstance(i, BrokenLink)]  # seq 4 links to one of them


def test_reordering_is_reported_with_positions() -> None:
    chain = make_chain(5)
    report = check_chain([chain[0], chain[2], chain[1], chain[3], chain[4]])
    assert report.issues == (Reordered(2, 3),)


def test_broken_link() -> None:
    chain = make_chain(3)
    rogue = sign_receipt(KEY, make_body(3, "ab" * 32))
    report = check_chain([chain[0], chain[1], rogue])
    assert report.issues == (BrokenLink(3, chain[1].id, "ab" * 32),)


def test_foreign_signer() -> None:
    other = SigningKey.from_secret(hashlib.sha256(b"other").digest())
    chain = make_chain(2)
    stranger = make_chain(1, key=other)[0]
    report = check_chain([*chain, stranger])
    assert report.issues == (ForeignSigner(1, other.address),)


def test_empty() -> None:
    report = check_chain([])
    assert report.ok
    assert report.count == 0
