"""Receipt v1: known answers, wire forms, validation and tamper detection."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
from pathlib import Path
from typing import Any

import orjson
import pytest
import rfc8785
from Crypto.Hash import keccak as pycryptodome_keccak
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.transcript.helpers import KEY, make_body, make_chain
from tests.transcript.test_keys import independent_verify
from transcript import (
    MalformedReceipt,
    PublicKeyVerifier,
    SignatureInvalid,
    SigningKey,
    parse_receipt,
    parse_receipt_header,
    sign_receipt,
)
from transcript.hexfields import ZERO_HASH
from transcript.receipt_schema import _looks_valid, _validate_in_detail

VECTORS = json.loads((Path(__file__).parent / "vectors" / "receipt-v1.json").read_text())


def k256(data: bytes) -> bytes:
    return pycryptodome_keccak.new(data=data, digest_bits=256).digest()


def test_domain_and_typehashes_from_first_principles() -> None:
    domain_type = k256(b"EIP712Domain(string name,string version)")
    separator = k256(domain_type + k256(b"veritee") + k256(b"1"))
    assert separator.hex() == VECTORS["domain_separator"]
    assert k256(b"Receipt(bytes32 bodyHash)").hex() == VECTORS["receipt_typehash"]


@pytest.mark.parametrize("index", range(len(VECTORS["receipts"])))
def test_known_answer_vectors(index: int) -> None:
    vec = VECTORS["receipts"][index]
    key = SigningKey.from_secret(bytes.fromhex(VECTORS["secret"]))
    assert key.address == VECTORS["address"]
    body = json.loads(vec["canonical_body"])
    # The canonical bytes are what the reference RFC 8785 implementation gives.
    assert rfc8785.dumps(body).decode() == vec["canonical_body"]
    body_hash = hashlib.sha256(vec["canonical_body"].encode()).digest()
    assert body_hash.hex() == vec["id"]
    # The digest, rebuilt independently: EIP-712 over Receipt(bytes32 bodyHash).
    struct = k256(bytes.fromhex(VECTORS["receipt_typehash"]) + body_hash)
    digest = k256(b"\x19\x01" + bytes.fromhex(VECTORS["domain_separator"]) + struct)
    assert digest.hex() == vec["digest"]
    # Our signer reproduces the signature exactly (deterministic), and OpenSSL accepts it.
    receipt = parse_receipt(vec["wire"])
    assert sign_receipt(key, receipt.body).signature.hex() == vec["sig"]
    independent_verify(key.public_key, digest, bytes.fromhex(vec["sig"]))
    assert receipt.id == vec["id"]
    assert receipt.canonical().decode() == vec["wire"]
    assert receipt.to_header() == vec["header"]
    receipt.verify()
    receipt.verify(PublicKeyVerifier(key.public_key))


def test_the_chain_of_vectors_links() -> None:
    ids = [v["id"] for v in VECTORS["receipts"]]
    prevs = [json.loads(v["canonical_body"])["prev"] for v in VECTORS["receipts"]]
    assert prevs == [ZERO_HASH, *ids[:-1]]


def test_wire_forms_agree() -> None:
    receipt = make_chain(1)[0]
    pretty = json.dumps(receipt.to_dict(), indent=2)  # not canonical: the slow path
    from_pretty = parse_receipt(pretty)
    assert from_pretty.body_hash == receipt.body_hash
    assert parse_receipt(receipt.canonical()).body_hash == receipt.body_hash
    assert parse_receipt(receipt.to_dict()).body_hash == receipt.body_hash
    header = receipt.to_header()
    assert "=" not in header
    assert parse_receipt_header(header).canonical() == receipt.canonical()
    assert base64.urlsafe_b64decode(header + "==") == receipt.canonical()


def test_flipping_any_byte_of_the_wire_form_fails() -> None:
    receipt = make_chain(1)[0]
    wire = receipt.canonical()
    verifier = PublicKeyVerifier(KEY.public_key)
    for i in range(len(wire)):
        tampered = bytearray(wire)
        tampered[i] ^= 0x01
        try:
            parsed = parse_receipt(bytes(tampered))
        except MalformedReceipt:
            continue
        with pytest.raises(SignatureInvalid):
            parsed.verify(verifier)
        with pytest.raises(SignatureInvalid):
            parsed.verify()


def test_non_canonical_body_bytes_in_canonical_position_fail() -> None:
    receipt = make_chain(1)[0]
    wire = receipt.canonical().decode()
    # Same JSON value, different bytes: a space after the first colon of the body.
    spaced = wire.replace('{"body":{"caller":', '{"body":{"caller": ', 1)
    assert json.loads(spaced) == json.loads(wire)
    parsed = parse_receipt(spaced)
    with pytest.raises(SignatureInvalid):
        parsed.verify()


def test_wrong_signer_is_named() -> None:
    other = SigningKey.from_secret(hashlib.sha256(b"someone else").digest())
    body = make_body(1, ZERO_HASH, key=other)
    forged = sign_receipt(other, body)
    with pytest.raises(SignatureInvalid, match="expected"):
        forged.verify(PublicKeyVerifier(KEY.public_key))
    with pytest.raises(ValueError, match="different signer"):
        sign_receipt(KEY, body)


def good_dict() -> dict[str, Any]:
    return make_chain(1)[0].to_dict()


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        (("body", "seq"), 0, "seq"),
        (("body", "seq"), True, "seq"),
        (("body", "seq"), 2**53, "seq"),
        (("body", "prev"), "ab" * 32, "prev"),  # seq 1 must have a zero prev
        (("body", "keyset"), "AB" * 32, "keyset"),
        (("body", "status"), "done", "status"),
        (("body", "http_status"), 99, "http_status"),
        (("body", "signer"), "0x5abaa2ed14d1acd45eea55eeb8b659cef9e3f6f", "signer"),
        (("body", "model"), "", "model"),
        (("body", "model"), "m" * 1025, "model"),
        (("body", "usage"), {"prompt_tokens": -1}, "usage"),
        (("body", "usage"), {"prompt_tokens": 1.5}, "usage"),
        (("body", "upstream", "spki_sha256"), "zz", "upstream.spki_sha256"),
        (("body", "upstream", "status"), 600, "upstream.status"),
        (("body", "stream"), 1, "stream"),
        (("body", "type"), "veritee.receipt.v2", "type"),
    ],
)
def test_each_bad_field_is_named(path: tuple[str, ...], value: object, field: str) -> None:
    doc = good_dict()
    target = doc
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(MalformedReceipt) as info:
        parse_receipt(orjson.dumps(doc))
    assert info.value.field == field


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"{",
        b"[]",
        b'{"body":{}}',
        b'{"body":{},"sig":"00"}',
        b"\xff\xfe",
        b'{"body":null,"sig":"' + b"0" * 130 + b'"}',
    ],
)
def test_broken_json_is_malformed(raw: bytes) -> None:
    with pytest.raises(MalformedReceipt):
        parse_receipt(raw)


def test_bad_header_is_malformed() -> None:
    with pytest.raises(MalformedReceipt):
        parse_receipt_header("not base64 !!")


def test_unknown_or_missing_keys_are_rejected() -> None:
    doc = good_dict()
    doc["body"]["extra"] = 1
    with pytest.raises(MalformedReceipt, match="unexpected"):
        parse_receipt(orjson.dumps(doc))
    doc = good_dict()
    del doc["body"]["caller"]
    with pytest.raises(MalformedReceipt, match="missing"):
        parse_receipt(orjson.dumps(doc))


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_never_crash(raw: bytes) -> None:
    with contextlib.suppress(MalformedReceipt):
        parse_receipt(raw)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(sorted(good_dict()["body"])), json_values, max_size=5))
def test_mutated_bodies_are_valid_or_malformed(changes: dict[str, object]) -> None:
    doc = good_dict()
    doc["body"].update(changes)
    try:
        receipt = parse_receipt(orjson.dumps(doc))
    except MalformedReceipt:
        return
    except TypeError:  # orjson cannot encode the value at all: not a receipt input
        return
    # A body that parses either is the original or fails the signature.
    if receipt.body.to_dict() != good_dict()["body"]:
        with pytest.raises(SignatureInvalid):
            receipt.verify()


@settings(max_examples=500, deadline=None)
@given(
    st.dictionaries(st.sampled_from(sorted(good_dict()["body"])), json_values, max_size=4),
    st.dictionaries(
        st.sampled_from(sorted(good_dict()["body"]["upstream"])), json_values, max_size=3
    ),
)
def test_the_validation_shortcut_never_accepts_what_the_detailed_checks_reject(
    changes: dict[str, object], upstream_changes: dict[str, object]
) -> None:
    body = good_dict()["body"]
    body["upstream"].update(upstream_changes)
    body.update(changes)
    body = orjson.loads(rfc8785.dumps(body)) if _canonicalisable(body) else body
    if _looks_valid(body):
        _validate_in_detail(body)  # must not raise


def test_the_shortcut_takes_genuine_bodies() -> None:
    for receipt in make_chain(3):
        assert _looks_valid(orjson.loads(receipt.body.canonical()))


def _canonicalisable(value: object) -> bool:
    try:
        rfc8785.dumps(value)
    except (rfc8785.CanonicalizationError, ValueError, TypeError):
        return False
    return True
