"""secp256k1 keys, addresses and canonical signatures, cross-checked against independent code."""

from __future__ import annotations

import contextlib
import hashlib
import pickle

import pytest
from Crypto.Hash import keccak as pycryptodome_keccak
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, encode_dss_signature
from hypothesis import given, settings
from hypothesis import strategies as st

from transcript.errors import SignatureInvalid
from transcript.keccak import keccak256
from transcript.keys import (
    SECP256K1_N,
    PublicKeyVerifier,
    SigningKey,
    checksum_address,
    parse_address,
    recover_address,
)


def independent_verify(public_key: bytes, digest: bytes, signature: bytes) -> None:
    """Verify r,s with OpenSSL (via cryptography), independent of libsecp256k1."""
    key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256K1(), public_key)
    der = encode_dss_signature(int.from_bytes(signature[:32]), int.from_bytes(signature[32:64]))
    key.verify(der, digest, ec.ECDSA(Prehashed(hashes.SHA256())))


def test_keccak_matches_independent_implementation() -> None:
    assert (
        keccak256(b"").hex() == "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
    )
    for data in (b"a", b"veritee" * 100):
        assert keccak256(data) == pycryptodome_keccak.new(data=data, digest_bits=256).digest()


@pytest.mark.parametrize(
    "address",
    [  # the test vectors published in EIP-55
        "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
        "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
        "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
        "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
    ],
)
def test_eip55_vectors(address: str) -> None:
    assert checksum_address(bytes.fromhex(address[2:])) == address
    assert parse_address(address.lower()) == address
    broken = address[:-1] + (address[-1].swapcase() if address[-1].isalpha() else "0")
    if broken != address and broken.lower() == address.lower():
        with pytest.raises(ValueError, match="checksum"):
            parse_address(broken)


def test_known_private_key_gives_known_address() -> None:
    # secret 1 is the generator point: its address is well known.
    key = SigningKey.from_secret((1).to_bytes(32, "big"))
    assert key.address == "0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf"


@settings(max_examples=60, deadline=None)
@given(st.binary(min_size=32, max_size=32), st.binary(min_size=32, max_size=32))
def test_signatures_are_canonical_deterministic_and_verify(secret: bytes, digest: bytes) -> None:
    if not 0 < int.from_bytes(secret) < SECP256K1_N:
        return
    key = SigningKey.from_secret(secret)
    sig = key.sign_digest(digest)
    assert sig == key.sign_digest(digest)  # RFC 6979 with a deterministic grinding counter
    assert sig[64] == 27
    assert int.from_bytes(sig[32:64]) <= SECP256K1_N // 2
    assert recover_address(digest, sig) == key.address
    PublicKeyVerifier(key.public_key).verify(digest, sig)
    independent_verify(key.public_key, digest, sig)


def test_rejects_every_malleated_or_foreign_form() -> None:
    key = SigningKey.from_secret(hashlib.sha256(b"k").digest())
    other = SigningKey.from_secret(hashlib.sha256(b"other").digest())
    digest = hashlib.sha256(b"message").digest()
    sig = key.sign_digest(digest)
    verifier = PublicKeyVerifier(key.public_key)
    high_s = sig[:32] + (SECP256K1_N - int.from_bytes(sig[32:64])).to_bytes(32, "big") + bytes([28])
    independent_verify(key.public_key, digest, high_s)  # mathematically valid...
    cases = {
        "high-s": high_s,  # ...but not canonical
        "v=28": sig[:64] + bytes([28]),
        "v=0": sig[:64] + bytes([0]),
        "short": sig[:64],
        "r=0": bytes(32) + sig[32:],
        "s=n": sig[:32] + SECP256K1_N.to_bytes(32, "big") + sig[64:],
    }
    for name, bad in cases.items():
        with pytest.raises(SignatureInvalid):
            verifier.verify(digest, bad)
        with pytest.raises(SignatureInvalid):
            recover_address(digest, bad)
        assert name
    with pytest.raises(SignatureInvalid):
        PublicKeyVerifier(other.public_key).verify(digest, sig)
    with pytest.raises(SignatureInvalid):
        verifier.verify(hashlib.sha256(b"other message").digest(), sig)


def test_flipping_any_signature_byte_fails() -> None:
    key = SigningKey.from_secret(hashlib.sha256(b"flip").digest())
    digest = hashlib.sha256(b"m").digest()
    sig = key.sign_digest(digest)
    verifier = PublicKeyVerifier(key.public_key)
    for i in range(len(sig)):
        for bit in (0x01, 0x80):
            bad = bytearray(sig)
            bad[i] ^= bit
            with pytest.raises(SignatureInvalid):
                verifier.verify(digest, bytes(bad))
            with contextlib.suppress(SignatureInvalid):
                assert recover_address(digest, bytes(bad)) != key.address


def test_signing_key_cannot_be_serialised() -> None:
    key = SigningKey.generate()
    with pytest.raises(TypeError):
        pickle.dumps(key)
    assert key.address in repr(key)
    public = {name for name in dir(key) if not name.startswith("_")}
    assert public == {"address", "public_key", "generate", "from_secret", "sign_digest"}


def test_independent_verify_rejects_a_wrong_digest() -> None:
    key = SigningKey.from_secret(hashlib.sha256(b"x").digest())
    sig = key.sign_digest(bytes(32))
    with pytest.raises(InvalidSignature):
        independent_verify(key.public_key, b"\x01" * 32, sig)
