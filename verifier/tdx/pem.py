"""Strict parsing of the PEM certificate chains that quotes and PCS headers carry.

Certificates authenticate themselves, but a lenient parser would let bytes change
without any effect (text between blocks, non-canonical base64). We accept only
certificate blocks, whitespace around them, trailing NUL bytes, and canonical base64,
so that every byte of every certificate is checked.
"""

from __future__ import annotations

import base64
import binascii
import re
from functools import lru_cache

from cryptography import x509

from attestation.formats.pki import load_der_certificate

_BLOCK = re.compile(rb"-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\r\n]+)-----END CERTIFICATE-----")
_WHITESPACE = re.compile(rb"[\r\n\t ]*")


def load_pem_chain(data: bytes) -> list[x509.Certificate]:
    """Parse concatenated PEM certificates; ValueError on anything else.

    Parsed chains are cached by their bytes (certificates are immutable; every signature
    is still verified on every use): a verifier sees the same chains again and again.
    """
    return list(_load(bytes(data)))


@lru_cache(maxsize=128)
def _load(data: bytes) -> tuple[x509.Certificate, ...]:
    data = data.rstrip(b"\x00")
    certs: list[x509.Certificate] = []
    pos = _skip(data, 0)
    while pos < len(data):
        match = _BLOCK.match(data, pos)
        if match is None:
            raise ValueError(f"expected a PEM certificate at byte {pos}")
        text = re.sub(rb"[\r\n]", b"", match.group(1))
        try:
            der = base64.b64decode(text, validate=True)
        except binascii.Error as exc:
            raise ValueError(f"bad base64 in the certificate at byte {pos}: {exc}") from None
        if base64.b64encode(der) != text:
            raise ValueError(f"non-canonical base64 in the certificate at byte {pos}")
        # Parsed completely now; MalformedEvidence is a ValueError too.
        certs.append(load_der_certificate(der, f"the certificate at byte {pos}"))
        pos = _skip(data, match.end())
    if not certs:
        raise ValueError("no certificates")
    return tuple(certs)


def _skip(data: bytes, pos: int) -> int:
    match = _WHITESPACE.match(data, pos)
    return match.end() if match else pos
