"""The keyset document and its binding into REPORT_DATA.

An enclave publishes a keyset: canonical JSON (RFC 8785) naming its public keys, the
image it runs, its platform and a validity window. Its hash is bound into the hardware
evidence::

    REPORT_DATA (64 bytes) = sha256(canonical keyset) ‖ nonce   (32 + 32 bytes)

with 32 zero bytes for the nonce when none was asked for (boot evidence). Nitro carries
the same 64 bytes in ``user_data``; a vTPM in the quote's qualifying data.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from attestation.errors import MalformedEvidence
from transcript.canonical import canonical_json
from transcript.keys import address_from_public_key

KEYSET_TYPE = "veritee.keyset.v1"
NONCE_SIZE = 32
ZERO_NONCE = b"\x00" * NONCE_SIZE
_IMAGE_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
_KEYS = frozenset(
    (
        "type",
        "signing_key",
        "encryption_key",
        "image_digest",
        "platform",
        "not_before_ms",
        "not_after_ms",
    )
)


@dataclass(frozen=True)
class Keyset:
    """An enclave's public keys and identity. Checked when constructed."""

    signing_public_key: bytes
    image_digest: str
    platform: str
    not_before_ms: int
    not_after_ms: int
    encryption_public_key: bytes | None = None

    def __post_init__(self) -> None:
        try:
            address_from_public_key(self.signing_public_key)
        except (ValueError, TypeError) as exc:
            raise MalformedEvidence(
                f"not a secp256k1 public key: {exc}", field="signing_key"
            ) from None
        if len(self.signing_public_key) != 65:
            raise MalformedEvidence("must be an uncompressed public key", field="signing_key")
        if self.encryption_public_key is not None and len(self.encryption_public_key) != 32:
            raise MalformedEvidence("an X25519 public key is 32 bytes", field="encryption_key")
        if not isinstance(self.image_digest, str) or not _IMAGE_DIGEST.fullmatch(self.image_digest):
            raise MalformedEvidence("must be sha256:<64 hex>", field="image_digest")
        if not isinstance(self.platform, str) or not self.platform:
            raise MalformedEvidence("must be a non-empty string", field="platform")
        for name in ("not_before_ms", "not_after_ms"):
            value = getattr(self, name)
            if type(value) is not int or not 0 <= value <= 2**53 - 1:
                raise MalformedEvidence("must be a non-negative integer", field=name)
        if self.not_after_ms < self.not_before_ms:
            raise MalformedEvidence("must not be before not_before_ms", field="not_after_ms")

    @property
    def signing_address(self) -> str:
        return address_from_public_key(self.signing_public_key)

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": KEYSET_TYPE,
            "signing_key": {
                "alg": "secp256k1",
                "public_key": self.signing_public_key.hex(),
                "address": self.signing_address,
            },
            "encryption_key": (
                None
                if self.encryption_public_key is None
                else {"alg": "x25519", "public_key": self.encryption_public_key.hex()}
            ),
            "image_digest": self.image_digest,
            "platform": self.platform,
            "not_before_ms": self.not_before_ms,
            "not_after_ms": self.not_after_ms,
        }

    def canonical(self) -> bytes:
        return canonical_json(self.to_dict())

    def hash(self) -> bytes:
        """sha256 of the canonical keyset: the first half of REPORT_DATA."""
        return hashlib.sha256(self.canonical()).digest()

    def report_data(self, nonce: bytes | None = None) -> bytes:
        return bind_report_data(self.hash(), nonce)

    def covers(self, time_ms: int) -> bool:
        return self.not_before_ms <= time_ms <= self.not_after_ms

    @classmethod
    def from_dict(cls, data: object) -> Keyset:
        if not isinstance(data, Mapping) or set(data) != _KEYS:
            raise MalformedEvidence(
                f"a keyset is an object with the keys {sorted(_KEYS)}", field="keyset"
            )
        if data["type"] != KEYSET_TYPE:
            raise MalformedEvidence(f"must be {KEYSET_TYPE!r}", field="keyset.type")
        signing = data["signing_key"]
        if not isinstance(signing, Mapping) or signing.get("alg") != "secp256k1":
            raise MalformedEvidence("must be a secp256k1 key", field="keyset.signing_key")
        encryption = data["encryption_key"]
        if encryption is not None and (
            not isinstance(encryption, Mapping) or encryption.get("alg") != "x25519"
        ):
            raise MalformedEvidence("must be null or an x25519 key", field="keyset.encryption_key")
        try:
            public = bytes.fromhex(signing["public_key"])
            enc = None if encryption is None else bytes.fromhex(encryption["public_key"])
        except (KeyError, TypeError, ValueError):
            raise MalformedEvidence("public keys must be hex", field="keyset") from None
        keyset = cls(
            signing_public_key=public,
            encryption_public_key=enc,
            image_digest=data["image_digest"],
            platform=data["platform"],
            not_before_ms=data["not_before_ms"],
            not_after_ms=data["not_after_ms"],
        )
        if signing.get("address") != keyset.signing_address:
            raise MalformedEvidence(
                "address does not match the public key", field="keyset.signing_key"
            )
        return keyset

    @classmethod
    def from_json(cls, raw: bytes | str) -> Keyset:
        try:
            return cls.from_dict(orjson.loads(raw))
        except orjson.JSONDecodeError as exc:
            raise MalformedEvidence(f"keyset is not valid JSON: {exc}", field="keyset") from None


def bind_report_data(keyset_hash: bytes, nonce: bytes | None = None) -> bytes:
    """``keyset_hash ‖ nonce`` (nonce: 32 bytes, or zeros when absent)."""
    if len(keyset_hash) != 32:
        raise ValueError("the keyset hash is 32 bytes")
    if nonce is None:
        nonce = ZERO_NONCE
    if len(nonce) != NONCE_SIZE:
        raise ValueError(f"a nonce is {NONCE_SIZE} bytes")
    return keyset_hash + nonce


def parse_nonce(text: str) -> bytes:
    """Parse the 64-hex-digit nonce of ``GET /v1/attestation?nonce=``; raise ValueError."""
    if not isinstance(text, str) or len(text) != 2 * NONCE_SIZE:
        raise ValueError(f"a nonce is {2 * NONCE_SIZE} hex digits")
    try:
        return bytes.fromhex(text)
    except ValueError:
        raise ValueError(f"a nonce is {2 * NONCE_SIZE} hex digits") from None
