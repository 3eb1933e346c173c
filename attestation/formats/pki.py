"""X.509 certificates and CRLs from untrusted bytes: parsed completely, at once.

``cryptography`` parses lazily: loading checks the outer structure, and a damaged name,
date, extension or key surfaces later, when it is first read, as whatever that accessor
raises (``ValueError``, ``InvalidVersion``, ``DuplicateExtension``,
``UnsupportedGeneralNameType``, ``UnsupportedAlgorithm``...). Evidence carries
certificates and CRLs, so every one is loaded here: each part a verifier reads is read now,
and any failure becomes one :class:`MalformedEvidence` naming the field. It is a
``ValueError``, so callers outside :mod:`attestation` may catch it as such.

cryptography's warnings about oddities it still parses (serial number 0, which AMD's
VCEKs carry against RFC 5280; a country name of the wrong length) are silenced: whether
such a certificate is acceptable is for its signature and the verifier's checks to say.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import TypeVar

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm

from attestation.errors import MalformedEvidence

T = TypeVar("T")
# Everything cryptography raises for bytes it cannot read, when loading or lazily later.
PARSE_ERRORS: tuple[type[Exception], ...] = (
    ValueError,
    TypeError,
    UnsupportedAlgorithm,
    x509.InvalidVersion,
    x509.DuplicateExtension,
    x509.UnsupportedGeneralNameType,
)


def _read_certificate(cert: x509.Certificate) -> x509.Certificate:
    _ = (cert.version, cert.serial_number, cert.issuer, cert.subject, cert.signature)
    _ = (cert.not_valid_before_utc, cert.not_valid_after_utc, cert.tbs_certificate_bytes)
    _ = (cert.signature_algorithm_oid, list(cert.extensions), cert.public_key())
    return cert


def _read_crl(crl: x509.CertificateRevocationList) -> x509.CertificateRevocationList:
    _ = (crl.issuer, crl.last_update_utc, crl.next_update_utc, crl.signature)
    _ = (crl.signature_algorithm_oid, crl.tbs_certlist_bytes, list(crl.extensions))
    for revoked in crl:
        _ = (revoked.serial_number, revoked.revocation_date_utc, list(revoked.extensions))
    return crl


def _parsed(parse: Callable[[], T], field: str, what: str) -> T:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return parse()
    except MalformedEvidence:
        raise
    except PARSE_ERRORS as exc:
        raise MalformedEvidence(f"not a well-formed {what}: {exc}", field=field) from None


def load_der_certificate(der: bytes, field: str) -> x509.Certificate:
    """One DER certificate, every part parsed; MalformedEvidence naming ``field`` otherwise."""
    if not isinstance(der, bytes) or not der:
        raise MalformedEvidence("must be a non-empty DER certificate", field=field)
    return _parsed(
        lambda: _read_certificate(x509.load_der_x509_certificate(der)), field, "X.509 certificate"
    )


def load_pem_certificates(data: bytes, field: str) -> list[x509.Certificate]:
    """Every PEM certificate in ``data`` (at least one), each parsed completely."""
    return _parsed(
        lambda: [_read_certificate(c) for c in x509.load_pem_x509_certificates(data)],
        field,
        "PEM certificate chain",
    )


def load_der_crl(der: bytes, field: str) -> x509.CertificateRevocationList:
    """One DER CRL, every part parsed (revoked entries included)."""
    return _parsed(lambda: _read_crl(x509.load_der_x509_crl(der)), field, "DER CRL")


def load_pem_crl(data: bytes, field: str) -> x509.CertificateRevocationList:
    return _parsed(lambda: _read_crl(x509.load_pem_x509_crl(data)), field, "PEM CRL")
