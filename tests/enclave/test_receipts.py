"""The receipt log: one unbroken chain, whatever the concurrency, bounded in memory."""

from __future__ import annotations

import threading

import pytest

from enclave.receipts import ReceiptLog
from tests.enclave.helpers import StepClock, identity, outcome
from transcript import (
    PublicKeyVerifier,
    check_chain,
    parse_receipt,
    parse_receipt_header,
    sign_receipt,
)
from transcript.hexfields import ZERO_HASH


def test_sign_links_a_verifiable_chain() -> None:
    ident = identity()
    log = ReceiptLog(ident, capacity=100, clock=StepClock())
    signed = [log.sign(outcome(i, client_nonce=f"n{i}", caller="tenant-a")) for i in range(5)]
    receipts = [s.receipt for s in signed]
    assert [r.body.seq for r in receipts] == [1, 2, 3, 4, 5]
    assert receipts[0].body.prev == ZERO_HASH
    assert check_chain(receipts).ok
    key = PublicKeyVerifier(ident.key.public_key)
    for s in signed:
        assert s.receipt.body.keyset == ident.keyset_hash.hex()
        s.receipt.verify(key)
        assert parse_receipt(s.wire) == s.receipt
        assert s.wire == s.receipt.canonical()
        assert s.receipt.body_hash == sign_receipt(ident.key, s.receipt.body).body_hash
        assert parse_receipt_header(s.header()).id == s.receipt.id
    assert receipts[2].body.client_nonce == "n2"
    assert receipts[2].body.caller == "tenant-a"


def test_concurrent_signers_never_fork_the_chain() -> None:
    log = ReceiptLog(identity(), capacity=10_000, clock=StepClock())

    def work(base: int) -> None:
        for i in range(50):
            log.sign(outcome(base + i))

    threads = [threading.Thread(target=work, args=(k * 1000,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    receipts = [s.receipt for s in log.since(0, 1000)]
    assert len(receipts) == 200
    report = check_chain(receipts)
    assert report.ok, report.issues


def test_capacity_evicts_the_oldest_and_since_pages() -> None:
    log = ReceiptLog(identity(), capacity=3, clock=StepClock())
    ids = [log.sign(outcome(i)).receipt.id for i in range(5)]
    assert (log.first_held_seq, log.last_seq) == (3, 5)
    assert [r.seq for r in log.since(0, 100)] == [3, 4, 5]
    assert [r.seq for r in log.since(3, 1)] == [4]
    assert log.since(5, 10) == []
    assert log.get(ids[0]) is None
    found = log.get(ids[4])
    assert found is not None
    assert found.seq == 5


def test_on_signed_sees_every_receipt_in_order() -> None:
    seen: list[int] = []
    log = ReceiptLog(
        identity(), capacity=2, clock=StepClock(), on_signed=lambda r: seen.append(r.body.seq)
    )
    for i in range(4):
        log.sign(outcome(i))
    assert seen == [1, 2, 3, 4]


def test_a_bad_outcome_is_refused_and_leaves_the_chain_intact() -> None:
    log = ReceiptLog(identity(), capacity=10, clock=StepClock())
    log.sign(outcome(0))
    with pytest.raises(ValueError, match="model"):
        log.sign(outcome(1, model=""))
    nxt = log.sign(outcome(2))
    assert nxt.seq == 2
    assert check_chain([r.receipt for r in log.since(0, 10)]).ok
