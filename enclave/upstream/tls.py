"""TLS for upstream calls: the verifying context, and the peer certificate's SPKI hash."""

from __future__ import annotations

import hashlib
import ssl
from functools import lru_cache
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat


def tls_context(ca_bundle: Path | None) -> ssl.SSLContext:
    """Verify hostnames and chains, against ``ca_bundle`` or the system trust store."""
    context = ssl.create_default_context(cafile=str(ca_bundle) if ca_bundle else None)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.set_alpn_protocols(["http/1.1"])
    return context


@lru_cache(maxsize=64)
def spki_sha256(cert_der: bytes) -> str:
    """sha256 (hex) of a DER certificate's SubjectPublicKeyInfo."""
    cert = x509.load_der_x509_certificate(cert_der)
    spki = cert.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(spki).hexdigest()


def peer_spki_sha256(ssl_object: ssl.SSLObject | None) -> str | None:
    """The SPKI hash of the leaf certificate a TLS peer presented (None without TLS)."""
    if ssl_object is None:
        return None
    der = ssl_object.getpeercert(binary_form=True)
    return spki_sha256(der) if der else None
