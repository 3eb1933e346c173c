"""Checkpoints: EIP-712 digest from first principles, signatures, chains and proofs."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from Crypto.Hash import keccak as pycryptodome_keccak

from tests.transcript.helpers import KEY, make_chain
from transcript import (
    Checkpoint,
    MalformedCheckpoint,
    MerkleTree,
    SignatureInvalid,
    SignedCheckpoint,
    SigningKey,
    build_checkpoint,
    verify_inclusion,
)
from transcript.checkpoint import ZERO32, check_checkpoint_chain

VECTORS = json.loads((Path(__file__).parent / "vectors" / "receipt-v1.json").read_text())
KEYSET = hashlib.sha256(b"test keyset").digest()


def k256(data: bytes) -> bytes:
    return pycryptodome_keccak.new(data=data, digest_bits=256).digest()


def test_known_answer_checkpoint() -> None:
    vec = VECTORS["checkpoint"]
    signed = SignedCheckpoint.from_dict(vec["json"])
    cp = signed.checkpoint
    typehash = k256(
        b"Checkpoint(address signer,uint64 firstSeq,uint64 lastSeq,bytes32 root,"
        b"bytes32 prev,bytes32 keysetHash,uint64 timeMs)"
    )
    assert typehash.hex() == VECTORS["checkpoint_typehash"]
    encoded = (
        typehash
        + bytes(12)
        + bytes.fromhex(cp.signer[2:])
        + cp.first_seq.to_bytes(32, "big")
        + cp.last_seq.to_bytes(32, "big")
        + cp.root
        + cp.prev
        + cp.keyset
        + cp.time_ms.to_bytes(32, "big")
    )
    assert k256(encoded).hex() == vec["struct_hash"]
    digest = k256(b"\x19\x01" + bytes.fromhex(VECTORS["domain_separator"]) + k256(encoded))
    assert digest.hex() == vec["digest"] == signed.hash.hex()
    signed.verify()
    ids = [bytes.fromhex(r["id"]) for r in VECTORS["receipts"]]
    assert cp.root == MerkleTree(ids).root
    for index, proof in enumerate(vec["proofs"]):
        assert verify_inclusion(
            ids[index], index, cp.size, [bytes.fromhex(p) for p in proof], cp.root
        )
    key = SigningKey.from_secret(bytes.fromhex(VECTORS["secret"]))
    again, _ = build_checkpoint(
        key, receipt_ids=ids, first_seq=1, prev=ZERO32, keyset=cp.keyset, time_ms=cp.time_ms
    )
    assert again.to_dict() == vec["json"]


def test_a_chain_of_checkpoints() -> None:
    receipts = make_chain(10)
    ids = [r.body_hash for r in receipts]
    first, tree = build_checkpoint(
        KEY, receipt_ids=ids[:4], first_seq=1, prev=ZERO32, keyset=KEYSET, time_ms=1
    )
    second, _ = build_checkpoint(
        KEY, receipt_ids=ids[4:], first_seq=5, prev=first.hash, keyset=KEYSET, time_ms=2
    )
    assert check_checkpoint_chain([first, second]) == []
    assert tree.proof(2) and verify_inclusion(ids[2], 2, 4, tree.proof(2), first.checkpoint.root)
    gap, _ = build_checkpoint(
        KEY, receipt_ids=ids[5:], first_seq=6, prev=first.hash, keyset=KEYSET, time_ms=2
    )
    assert [g.reason for g in check_checkpoint_chain([first, gap])] == ["does not follow seq 4"]
    unlinked, _ = build_checkpoint(
        KEY, receipt_ids=ids[4:], first_seq=5, prev=b"\x01" * 32, keyset=KEYSET, time_ms=2
    )
    assert [g.reason for g in check_checkpoint_chain([first, unlinked])] == [
        "does not link to the checkpoint before it"
    ]


def test_tampered_checkpoint_fields_fail_the_signature() -> None:
    signed, _ = build_checkpoint(
        KEY, receipt_ids=[bytes(32)], first_seq=1, prev=ZERO32, keyset=KEYSET, time_ms=5
    )
    doc = signed.to_dict()
    for field, value in [
        ("last_seq", 2),
        ("root", "11" * 32),
        ("keyset", "22" * 32),
        ("time_ms", 6),
    ]:
        bad = dict(doc, **{field: value})
        with pytest.raises(SignatureInvalid):
            SignedCheckpoint.from_dict(bad).verify()
    other = SigningKey.from_secret(hashlib.sha256(b"o").digest())
    claimed = dict(doc, signer=other.address)
    with pytest.raises(SignatureInvalid, match="not by the signer it names"):
        SignedCheckpoint.from_dict(claimed).verify()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("first_seq", 0),
        ("last_seq", 0),
        ("root", "00"),
        ("prev", "11" * 32),  # the first checkpoint must have a zero prev
        ("signer", "0x0"),
        ("sig", "00"),
        ("type", "other"),
        ("time_ms", -1),
    ],
)
def test_malformed_checkpoints_name_the_field(field: str, value: object) -> None:
    signed, _ = build_checkpoint(
        KEY, receipt_ids=[bytes(32)], first_seq=1, prev=ZERO32, keyset=KEYSET, time_ms=5
    )
    with pytest.raises(MalformedCheckpoint):
        SignedCheckpoint.from_dict(dict(signed.to_dict(), **{field: value}))


def test_checkpoint_model_rejects_bad_ranges() -> None:
    with pytest.raises(MalformedCheckpoint, match="last_seq"):
        Checkpoint(
            signer=KEY.address,
            first_seq=5,
            last_seq=4,
            root=bytes(32),
            prev=bytes(32),
            keyset=bytes(32),
            time_ms=0,
        )
