"""Checkpoints: cut every N receipts or on demand, chained, with proofs from kept trees."""

from __future__ import annotations

from enclave.checkpoints import Checkpointer
from enclave.receipts import ReceiptLog
from tests.enclave.helpers import StepClock, identity, outcome
from transcript.checkpoint import ZERO32, check_checkpoint_chain
from transcript.merkle import verify_inclusion


def setup(every: int, keep: int = 100) -> tuple[Checkpointer, ReceiptLog]:
    ident = identity()
    clock = StepClock()
    checkpoints = Checkpointer(ident, every_receipts=every, keep=keep, clock=clock)
    log = ReceiptLog(ident, capacity=1000, clock=clock, on_signed=checkpoints.add)
    return checkpoints, log


def test_cut_every_n_and_on_demand() -> None:
    checkpoints, log = setup(every=4)
    for i in range(10):
        log.sign(outcome(i))
    assert checkpoints.pending == 2
    last = checkpoints.cut()
    assert last is not None
    assert checkpoints.cut() is None, "nothing pending, nothing cut"
    cps = checkpoints.after(0)
    assert [(c.checkpoint.first_seq, c.checkpoint.last_seq) for c in cps] == [
        (1, 4),
        (5, 8),
        (9, 10),
    ]
    assert cps[0].checkpoint.prev == ZERO32
    assert check_checkpoint_chain(cps) == []
    for cp in cps:
        cp.verify()
        assert cp.checkpoint.signer == log.since(0, 1)[0].receipt.body.signer
    assert [c.checkpoint.first_seq for c in checkpoints.after(4)] == [5, 9]
    assert [c.checkpoint.first_seq for c in checkpoints.after(6)] == [5, 9]
    assert checkpoints.after(10) == []


def test_every_receipt_has_a_verifying_proof() -> None:
    checkpoints, log = setup(every=5)
    logged = [log.sign(outcome(i)) for i in range(13)]
    checkpoints.cut()
    for entry in logged:
        proof = checkpoints.proof(entry.seq, entry.receipt.body_hash)
        assert proof is not None
        cp = proof.checkpoint.checkpoint
        assert cp.first_seq <= entry.seq <= cp.last_seq
        assert verify_inclusion(
            entry.receipt.body_hash, proof.leaf_index, proof.tree_size, list(proof.path), cp.root
        )
        assert proof.to_dict()["receipt_id"] == entry.receipt.id


def test_no_proof_for_pending_dropped_or_mismatched_receipts() -> None:
    checkpoints, log = setup(every=2, keep=2)
    logged = [log.sign(outcome(i)) for i in range(7)]
    assert checkpoints.proof(7, logged[6].receipt.body_hash) is None, "pending"
    assert checkpoints.proof(1, logged[0].receipt.body_hash) is None, "dropped (keep=2)"
    assert checkpoints.proof(5, logged[5].receipt.body_hash) is None, "wrong id for seq 5"
    assert checkpoints.proof(5, logged[4].receipt.body_hash) is not None
    assert [c.checkpoint.first_seq for c in checkpoints.after(0)] == [3, 5]
