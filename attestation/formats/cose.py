"""COSE_Sign1 with ES384, as the AWS Nitro Secure Module emits it (RFC 9052).

The envelope is a CBOR array, optionally wrapped in tag 18::

    [ protected: bstr .cbor {1: -35},   ; alg: ES384, and nothing else
      unprotected: {},                  ; NSM leaves it empty
      payload: bstr,                    ; the attestation document (CBOR)
      signature: bstr .size 96 ]        ; ECDSA P-384, r ‖ s, 48 bytes each

The signature covers ``Sig_structure = ["Signature1", protected, h'', payload]``.
This module parses and builds; it checks no signature (that is the verifier's job).

CBOR is decoded strictly: definite lengths, no duplicate map keys, no trailing bytes,
and the preferred (shortest) serialisation. NSM always encodes that way, so anything
else did not come from an NSM and is refused as malformed rather than interpreted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import cbor2
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from attestation.errors import MalformedEvidence

COSE_SIGN1_TAG = 18
ALG_LABEL = 1
ES384 = -35
ES384_COORDINATE_SIZE = 48
ES384_SIGNATURE_SIZE = 2 * ES384_COORDINATE_SIZE
MAX_PAYLOAD_SIZE = 16384
MAX_COSE_SIZE = MAX_PAYLOAD_SIZE + 1024
# The protected header NSM writes: the map {1: -35}.
ES384_PROTECTED = bytes.fromhex("a1013822")
_SIGNATURE1 = "Signature1"
_MAX_DEPTH = 8
_DECODE_ERRORS = (cbor2.CBORError, ValueError, TypeError, OverflowError, RecursionError)


def decode_cbor(data: bytes, *, field: str) -> object:
    """Decode one CBOR item that must span ``data`` exactly, in preferred encoding.

    Raises MalformedEvidence naming ``field`` on anything else.
    """
    try:
        value = cbor2.loads(
            data, max_depth=_MAX_DEPTH, allow_indefinite=False, allow_duplicate_keys=False
        )
    except _DECODE_ERRORS as exc:
        raise MalformedEvidence(f"not well-formed CBOR: {exc}", field=field) from None
    try:
        again = cbor2.dumps(value)
    except _DECODE_ERRORS:
        again = b""
    if again != data:
        raise MalformedEvidence(
            "trailing bytes, or not in the preferred (shortest) CBOR encoding", field=field
        )
    return value


def sig_structure(protected: bytes, payload: bytes, external_aad: bytes = b"") -> bytes:
    """The bytes a COSE_Sign1 signature covers (RFC 9052 section 4.4)."""
    return cbor2.dumps([_SIGNATURE1, protected, external_aad, payload])


def raw_to_der_signature(raw: bytes) -> bytes:
    """COSE's fixed-size ``r ‖ s`` to the DER ``ECDSA-Sig-Value`` that X.509 tools take."""
    if len(raw) != ES384_SIGNATURE_SIZE:
        raise MalformedEvidence(f"must be {ES384_SIGNATURE_SIZE} bytes", field="cose.signature")
    half = ES384_COORDINATE_SIZE
    return encode_dss_signature(
        int.from_bytes(raw[:half], "big"), int.from_bytes(raw[half:], "big")
    )


def der_to_raw_signature(der: bytes) -> bytes:
    """A DER ``ECDSA-Sig-Value`` (P-384) to COSE's ``r ‖ s``."""
    r, s = decode_dss_signature(der)
    return r.to_bytes(ES384_COORDINATE_SIZE, "big") + s.to_bytes(ES384_COORDINATE_SIZE, "big")


def _check_protected(protected: object) -> bytes:
    if not isinstance(protected, bytes):
        raise MalformedEvidence("must be a byte string", field="cose.protected")
    header = decode_cbor(protected, field="cose.protected")
    if not isinstance(header, Mapping) or ALG_LABEL not in header:
        raise MalformedEvidence("must be a map naming the algorithm", field="cose.protected")
    alg = header[ALG_LABEL]
    if type(alg) is not int or alg != ES384:
        raise MalformedEvidence(f"algorithm {alg!r} is not ES384 (-35)", field="cose.protected")
    if len(header) != 1 or not all(type(k) is int for k in header):
        raise MalformedEvidence("must hold the algorithm and nothing else", field="cose.protected")
    return protected


@dataclass(frozen=True)
class CoseSign1:
    """A parsed COSE_Sign1 envelope; ``protected`` keeps the exact signed bytes."""

    payload: bytes
    signature: bytes
    protected: bytes = ES384_PROTECTED
    tagged: bool = False

    def __post_init__(self) -> None:
        _check_protected(self.protected)
        if not isinstance(self.payload, bytes) or not 1 <= len(self.payload) <= MAX_PAYLOAD_SIZE:
            raise MalformedEvidence(
                f"must be a byte string of 1 to {MAX_PAYLOAD_SIZE} bytes", field="cose.payload"
            )
        if not isinstance(self.signature, bytes) or len(self.signature) != ES384_SIGNATURE_SIZE:
            raise MalformedEvidence(
                f"an ES384 signature is {ES384_SIGNATURE_SIZE} bytes (r ‖ s)",
                field="cose.signature",
            )

    @classmethod
    def from_bytes(cls, raw: bytes) -> CoseSign1:
        if not isinstance(raw, bytes) or not 0 < len(raw) <= MAX_COSE_SIZE:
            raise MalformedEvidence(f"must be 1 to {MAX_COSE_SIZE} bytes", field="cose")
        value = decode_cbor(raw, field="cose")
        tagged = isinstance(value, cbor2.CBORTag)
        if isinstance(value, cbor2.CBORTag):
            if value.tag != COSE_SIGN1_TAG:
                raise MalformedEvidence(
                    f"tag {value.tag} is not COSE_Sign1 ({COSE_SIGN1_TAG})", field="cose.tag"
                )
            value = value.value
        # Inside a tag cbor2 builds immutable containers: tuple and frozendict.
        if not isinstance(value, list | tuple) or len(value) != 4:
            raise MalformedEvidence("a COSE_Sign1 is an array of 4 items", field="cose")
        protected, unprotected, payload, signature = value
        if not isinstance(unprotected, Mapping) or unprotected:
            raise MalformedEvidence("must be an empty map", field="cose.unprotected")
        if not isinstance(payload, bytes):
            raise MalformedEvidence("must be a byte string (not detached)", field="cose.payload")
        if not isinstance(signature, bytes):
            raise MalformedEvidence("must be a byte string", field="cose.signature")
        return cls(
            payload=payload,
            signature=signature,
            protected=_check_protected(protected),
            tagged=tagged,
        )

    def to_be_signed(self) -> bytes:
        """The Sig_structure this envelope's signature covers."""
        return sig_structure(self.protected, self.payload)

    def signature_der(self) -> bytes:
        return raw_to_der_signature(self.signature)

    def to_bytes(self) -> bytes:
        body = [self.protected, {}, self.payload, self.signature]
        return cbor2.dumps(cbor2.CBORTag(COSE_SIGN1_TAG, body) if self.tagged else body)
