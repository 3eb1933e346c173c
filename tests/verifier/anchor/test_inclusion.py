"""Verifying a receipt's anchored inclusion against each chain, and every way it can fail."""

from __future__ import annotations

import dataclasses

import pytest

from tests.helpers.anchoring import Transcript, random32
from tests.helpers.chains import ChainEnv
from transcript import SignedCheckpoint, SigningKey
from verifier.anchor import (
    AnchorClient,
    Anchoring,
    ChainUnavailable,
    InclusionInvalid,
    InclusionProof,
    MalformedInclusionProof,
    RegistryClient,
    deploy,
    verify_anchored_inclusion,
)

CHECKS = [
    "anchor.signature",
    "anchor.merkle",
    "anchor.code",
    "anchor.transaction",
    "anchor.event",
    "anchor.storage",
    "anchor.confirmations",
]


@dataclasses.dataclass
class Anchored:
    transcript: Transcript
    anchorings: list[Anchoring]

    def proof(self, seq: int) -> InclusionProof:
        """The proof for receipt ``seq``, from whichever checkpoint holds it."""
        t = self.transcript
        for cp, tree, anchoring in zip(t.checkpoints, t.trees, self.anchorings, strict=True):
            first = cp.checkpoint.first_seq
            if first <= seq <= cp.checkpoint.last_seq:
                return InclusionProof(
                    receipt_id=t.receipts[seq - 1].body_hash,
                    seq=seq,
                    path=tuple(tree.proof(seq - first)),
                    checkpoint=cp,
                    tx_hash=anchoring.tx_hash,
                )
        raise AssertionError(f"no checkpoint holds seq {seq}")


@pytest.fixture
def anchored(env: ChainEnv) -> Anchored:
    t = Transcript()
    env.registry.register(t.address, measurement=random32(), evidence_hash=random32())
    return Anchored(t, [env.anchor.submit(t.next_checkpoint(size)) for size in (1, 6, 5)])


def failed_check(env: ChainEnv, proof: InclusionProof, anchor: str | None = None) -> str:
    with pytest.raises(InclusionInvalid) as info:
        verify_anchored_inclusion(env.w3, anchor=anchor or env.deployment.anchor, proof=proof)
    return info.value.check


@pytest.mark.parametrize("seq", [1, 2, 7, 8, 12])
def test_every_anchored_receipt_verifies(env: ChainEnv, anchored: Anchored, seq: int) -> None:
    result = verify_anchored_inclusion(
        env.w3, anchor=env.deployment.anchor, proof=anchored.proof(seq)
    )
    assert [c.name for c in result.checks] == CHECKS
    holder = next(i for i, a in enumerate(anchored.anchorings) if result.tx_hash == a.tx_hash)
    assert result.checkpoint_index == holder
    assert result.block_number == anchored.anchorings[holder].block_number
    assert (result.anchor, result.registry) == (env.deployment.anchor, env.deployment.registry)
    assert result.signer == anchored.transcript.address
    assert result.chain_id == env.w3.eth.chain_id
    assert result.confirmations >= 1
    assert result.enclave.active


def test_a_later_revocation_is_reported_not_judged(env: ChainEnv, anchored: Anchored) -> None:
    env.registry.revoke_enclave(anchored.transcript.address)
    result = verify_anchored_inclusion(
        env.w3, anchor=env.deployment.anchor, proof=anchored.proof(2)
    )
    assert not result.enclave.active
    assert result.enclave.revoked_at > result.block_number


def test_the_proof_survives_its_json_form(env: ChainEnv, anchored: Anchored) -> None:
    proof = InclusionProof.from_dict(anchored.proof(9).to_dict())
    assert proof == anchored.proof(9)
    assert verify_anchored_inclusion(env.w3, anchor=env.deployment.anchor, proof=proof).seq == 9


def test_another_receipt_id_is_not_in_the_root(env: ChainEnv, anchored: Anchored) -> None:
    proof = dataclasses.replace(anchored.proof(3), receipt_id=random32())
    assert failed_check(env, proof) == "anchor.merkle"


def test_the_wrong_leaf_position_is_not_in_the_root(env: ChainEnv, anchored: Anchored) -> None:
    proof = dataclasses.replace(anchored.proof(3), seq=4)
    assert failed_check(env, proof) == "anchor.merkle"


def test_a_path_of_the_wrong_length_is_malformed(env: ChainEnv, anchored: Anchored) -> None:
    proof = anchored.proof(3)
    short = dataclasses.replace(proof, path=proof.path[:-1])
    with pytest.raises(MalformedInclusionProof):
        verify_anchored_inclusion(env.w3, anchor=env.deployment.anchor, proof=short)


def test_a_checkpoint_signed_by_someone_else_fails(env: ChainEnv, anchored: Anchored) -> None:
    proof = anchored.proof(3)
    digest = proof.checkpoint.hash
    forged = SignedCheckpoint(
        proof.checkpoint.checkpoint, SigningKey.generate().sign_digest(digest)
    )
    assert failed_check(env, dataclasses.replace(proof, checkpoint=forged)) == "anchor.signature"


def test_the_transaction_of_another_checkpoint_fails(env: ChainEnv, anchored: Anchored) -> None:
    proof = dataclasses.replace(anchored.proof(3), tx_hash=anchored.anchorings[0].tx_hash)
    assert failed_check(env, proof) == "anchor.event"


def test_an_unknown_transaction_fails(env: ChainEnv, anchored: Anchored) -> None:
    proof = dataclasses.replace(anchored.proof(3), tx_hash=random32())
    assert failed_check(env, proof) == "anchor.transaction"


def test_a_checkpoint_signed_but_never_anchored_fails(env: ChainEnv, anchored: Anchored) -> None:
    t = anchored.transcript
    t.next_checkpoint(2)  # signed, not submitted
    tree = t.trees[-1]
    proof = InclusionProof(
        receipt_id=t.receipts[-1].body_hash,
        seq=len(t.receipts),
        path=tuple(tree.proof(1)),
        checkpoint=t.checkpoints[-1],
        tx_hash=anchored.anchorings[-1].tx_hash,
    )
    assert failed_check(env, proof) == "anchor.event"


def test_an_address_that_is_not_the_anchor_fails(env: ChainEnv, anchored: Anchored) -> None:
    assert failed_check(env, anchored.proof(3), anchor=env.deployment.registry) == "anchor.code"


def test_the_same_checkpoint_on_another_anchor_does_not_count(
    env: ChainEnv, anchored: Anchored
) -> None:
    """Anchored on a second deployment (its own registry), checked against the first."""
    other = deploy(env.sender)
    t = Transcript()
    env.registry.register(t.address, measurement=random32(), evidence_hash=random32())
    RegistryClient(env.w3, other.registry, sender=env.sender).register(
        t.address, measurement=random32(), evidence_hash=random32()
    )
    elsewhere = AnchorClient(env.w3, other.anchor, sender=env.sender).submit(t.next_checkpoint(2))
    proof = Anchored(t, [elsewhere]).proof(1)
    assert failed_check(env, proof) == "anchor.event"
    assert verify_anchored_inclusion(env.w3, anchor=other.anchor, proof=proof).seq == 1


def test_too_few_confirmations_is_no_verdict_yet(env: ChainEnv, anchored: Anchored) -> None:
    with pytest.raises(ChainUnavailable) as info:
        verify_anchored_inclusion(
            env.w3, anchor=env.deployment.anchor, proof=anchored.proof(3), min_confirmations=10**6
        )
    assert info.value.check == "anchor.confirmations"
