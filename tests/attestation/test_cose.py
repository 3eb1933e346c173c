"""COSE_Sign1 (ES384) envelope: strict CBOR, the signed structure, signature encodings."""

from __future__ import annotations

import cbor2
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given, settings
from hypothesis import strategies as st

from attestation.errors import MalformedEvidence
from attestation.formats.cose import (
    ES384_PROTECTED,
    CoseSign1,
    decode_cbor,
    der_to_raw_signature,
    raw_to_der_signature,
    sig_structure,
)

P384_ORDER = int(
    "ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973",
    16,
)
SIG = bytes(range(96))


def test_protected_header_is_alg_es384():
    assert cbor2.loads(ES384_PROTECTED) == {1: -35}


def test_sig_structure_known_answer():
    # ["Signature1", h'a1013822', h'', h'00ff']
    expected = bytes.fromhex("846a5369676e61747572653144a101382240" + "4200ff")
    assert sig_structure(ES384_PROTECTED, b"\x00\xff") == expected


def test_round_trip_untagged_and_tagged():
    for tagged in (False, True):
        cose = CoseSign1(payload=b"\xa0", signature=SIG, tagged=tagged)
        raw = cose.to_bytes()
        assert raw[0] == (0xD2 if tagged else 0x84)
        assert CoseSign1.from_bytes(raw) == cose


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        (cbor2.dumps(cbor2.CBORTag(17, [ES384_PROTECTED, {}, b"\xa0", SIG])), "cose.tag"),
        (cbor2.dumps([ES384_PROTECTED, {}, b"\xa0"]), "cose"),
        (cbor2.dumps({"a": 1}), "cose"),
        (cbor2.dumps([cbor2.dumps({1: -7}), {}, b"\xa0", SIG]), "cose.protected"),
        (cbor2.dumps([cbor2.dumps({1: -35, 4: b"kid"}), {}, b"\xa0", SIG]), "cose.protected"),
        (cbor2.dumps([cbor2.dumps({3: 0}), {}, b"\xa0", SIG]), "cose.protected"),
        (cbor2.dumps([{1: -35}, {}, b"\xa0", SIG]), "cose.protected"),
        (cbor2.dumps([ES384_PROTECTED, {4: b"kid"}, b"\xa0", SIG]), "cose.unprotected"),
        (cbor2.dumps([ES384_PROTECTED, {}, None, SIG]), "cose.payload"),
        (cbor2.dumps([ES384_PROTECTED, {}, b"", SIG]), "cose.payload"),
        (cbor2.dumps([ES384_PROTECTED, {}, b"\xa0", SIG[:64]]), "cose.signature"),
        (cbor2.dumps([ES384_PROTECTED, {}, b"\xa0", "sig"]), "cose.signature"),
        (cbor2.dumps([ES384_PROTECTED, {}, b"\xa0", SIG]) + b"\x00", "cose"),
        (b"", "cose"),
    ],
)
def test_malformed_envelopes_name_the_field(raw, field):
    with pytest.raises(MalformedEvidence) as caught:
        CoseSign1.from_bytes(raw)
    assert caught.value.field == field


@pytest.mark.parametrize(
    "raw",
    [
        bytes.fromhex("1800"),  # 0 in two bytes: not the shortest form
        bytes.fromhex("5f4101ff"),  # indefinite-length byte string
        bytes.fromhex("a2616101616102"),  # {"a": 1, "a": 2}
        bytes.fromhex("0101"),  # trailing bytes
        bytes.fromhex("5801ff"),  # a 1-byte string with a needless length byte
        bytes.fromhex("81" * 20 + "00"),  # nested too deep
    ],
)
def test_decode_cbor_is_strict(raw):
    with pytest.raises(MalformedEvidence) as caught:
        decode_cbor(raw, field="x")
    assert caught.value.field == "x"


@settings(max_examples=200, deadline=None)
@given(st.integers(1, P384_ORDER - 1), st.integers(1, P384_ORDER - 1))
def test_signature_encodings_round_trip(r, s):
    raw = r.to_bytes(48, "big") + s.to_bytes(48, "big")
    assert der_to_raw_signature(raw_to_der_signature(raw)) == raw


def test_raw_signature_verifies_as_der():
    key = ec.generate_private_key(ec.SECP384R1())
    message = sig_structure(ES384_PROTECTED, b"payload")
    raw = der_to_raw_signature(key.sign(message, ec.ECDSA(hashes.SHA384())))
    assert len(raw) == 96
    key.public_key().verify(raw_to_der_signature(raw), message, ec.ECDSA(hashes.SHA384()))
