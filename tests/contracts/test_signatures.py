"""The contract's digests and ecrecover agree with transcript's, byte for byte."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers.anchoring import Transcript, make_receipts
from tests.helpers.chains import ChainEnv
from transcript import SigningKey, recover_address
from transcript.checkpoint import ZERO32
from transcript.digest import DOMAIN_SEPARATOR, receipt_digest
from transcript.keys import SECP256K1_N
from verifier.anchor import ContractRejected

# Known answers: receipts 1 and 2 of the key sha256("veritee anchor KAT key"), as built by
# tests.helpers.anchoring.make_receipts. Fixed here so that a change anywhere shows.
KAT_SIGNER = "0xA427589ec3066925b884D6Ce518D0271Fc6dE452"
KAT_RECEIPTS = [
    (
        "bdd76954d79a169a33460d39c7cc26a10746b1963839e674ec073e963fac5e49",
        "185b8999656b820e028dabf155a5ab40473c8e6bd025e3d6d289bc0e2e56f546"
        "50b1e708cd8490246ade2d1f8c70ef41b2b03923ce937a7c6d02b6eb56defae91b",
        "4128eb47f2b34ebac6a00056fcac82c84733e6fbd28b29ad86f5a0e29fefad8a",
    ),
    (
        "e69d3f8ba970c74237a00f483bd665942fa953296c1105da00c886e79df46cee",
        "9942bf65e9d1e552cb15e8f02638f6fc603858598186bc9ed1c56dcc6e26d29b"
        "0b86a5f3cffb15d882422ba6821b529f4cac248a6454c220aebd009fec750a1e1b",
        "606e535deaa8fa4eeaec0c0c82abab2a8c24c563df6733d1afd0c23cfdc760b6",
    ),
]
KAT_DOMAIN_SEPARATOR = "5abfd02ac52032f8bd5a1ac1f2f9a4f38be094d8a64e70ef31e66513108ac970"


def test_the_known_answers_are_what_transcript_produces() -> None:
    key = SigningKey.from_secret(hashlib.sha256(b"veritee anchor KAT key").digest())
    receipts = make_receipts(key, 1, 2, ZERO32)
    assert key.address == KAT_SIGNER
    assert [(r.id, r.signature.hex(), r.digest.hex()) for r in receipts] == KAT_RECEIPTS
    assert DOMAIN_SEPARATOR.hex() == KAT_DOMAIN_SEPARATOR


@pytest.mark.parametrize(("body_hash", "signature", "digest"), KAT_RECEIPTS)
def test_receipt_signer_recovers_the_known_signer(
    env: ChainEnv, body_hash: str, signature: str, digest: str
) -> None:
    body, sig = bytes.fromhex(body_hash), bytes.fromhex(signature)
    assert env.anchor.receipt_signer(body, sig) == KAT_SIGNER
    assert recover_address(bytes.fromhex(digest), sig) == KAT_SIGNER
    assert bytes(env.anchor.contract.read("receiptDigest", body)).hex() == digest


def test_domain_separator_matches(env: ChainEnv) -> None:
    assert bytes(env.anchor.contract.read("domainSeparator")).hex() == KAT_DOMAIN_SEPARATOR


def test_checkpoint_digest_matches(env: ChainEnv) -> None:
    t = Transcript()
    for size in (1, 7):
        cp = t.next_checkpoint(size).checkpoint
        fields = (cp.signer, cp.first_seq, cp.last_seq, cp.root, cp.prev, cp.keyset, cp.time_ms)
        assert bytes(env.anchor.contract.read("checkpointDigest", *fields)) == cp.digest()


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    secret=st.integers(min_value=1, max_value=SECP256K1_N - 1),
    body_hash=st.binary(min_size=32, max_size=32),
)
def test_receipt_signer_equals_recover_address(
    env: ChainEnv, secret: int, body_hash: bytes
) -> None:
    key = SigningKey.from_secret(secret.to_bytes(32, "big"))
    signature = key.sign_digest(receipt_digest(body_hash))
    expected = recover_address(receipt_digest(body_hash), signature)
    assert env.anchor.receipt_signer(body_hash, signature) == expected == key.address


def test_receipt_signer_rejects_a_malleable_twin(env: ChainEnv) -> None:
    body, sig = bytes.fromhex(KAT_RECEIPTS[0][0]), bytes.fromhex(KAT_RECEIPTS[0][1])
    with pytest.raises(ContractRejected) as info:
        env.anchor.receipt_signer(body, sig[:64] + b"\x1c")
    assert info.value.error_name == "SignatureV"
