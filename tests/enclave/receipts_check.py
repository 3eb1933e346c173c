"""How a careful client checks what the enclave returned (used by the integration tests)."""

from __future__ import annotations

import hashlib

import httpx

from attestation.keyset import Keyset
from transcript import PublicKeyVerifier, Receipt, parse_receipt

RECEIPT_EVENT = b"event: veritee-receipt\ndata: "


def split_stream(raw: bytes) -> tuple[bytes, Receipt]:
    """The SSE bytes before the receipt event, and the receipt it carries (the last event)."""
    at = raw.rindex(RECEIPT_EVENT)
    data = raw[at + len(RECEIPT_EVENT) :]
    assert data.endswith(b"\n\n"), "the receipt is the last event"
    return raw[:at], parse_receipt(data[:-2])


def keyset_of(base_url: str) -> tuple[Keyset, bytes]:
    """The enclave's keyset and its hash, from ``GET /v1/keyset`` (the canonical bytes)."""
    raw = httpx.get(base_url + "/v1/keyset").content
    keyset = Keyset.from_json(raw)
    assert keyset.canonical() == raw
    return keyset, hashlib.sha256(raw).digest()


def check_receipt(base_url: str, receipt: Receipt, *, request: bytes, response: bytes) -> None:
    """Signature by the attested key, keyset binding, and both body hashes; AssertionError."""
    keyset, keyset_hash = keyset_of(base_url)
    receipt.verify(PublicKeyVerifier(keyset.signing_public_key))
    assert receipt.body.keyset == keyset_hash.hex()
    assert receipt.body.request_sha256 == hashlib.sha256(request).hexdigest()
    assert receipt.body.response_sha256 == hashlib.sha256(response).hexdigest()
