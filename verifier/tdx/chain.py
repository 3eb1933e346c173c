"""Certificate chains and CRLs checked against explicitly given trusted roots.

A chain is given leaf first. If it ends in a self-signed certificate, that certificate
must be byte-identical to one of the anchors; otherwise the last certificate must be
issued by an anchor. Every issuer must be a CA, every signature must verify, and every
certificate must be valid at ``now``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm

from attestation.formats.pki import load_der_crl
from verifier.collateral.errors import CollateralExpired, CollateralInvalid
from verifier.errors import CertificateChainInvalid, VerifierError
from verifier.trust import TrustedRoots

EXPIRED_CHECK = "tdx.collateral-expired"


def common_name(name: x509.Name) -> str:
    values = name.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    return str(values[0].value) if values else name.rfc4514_string()


def verify_chain(
    chain: Sequence[x509.Certificate],
    roots: TrustedRoots,
    now: datetime,
    *,
    check: str,
    expired: type[VerifierError] = CertificateChainInvalid,
    expired_check: str | None = None,
) -> x509.Certificate:
    """Verify ``chain`` (leaf first) up to an anchor in ``roots``; return that anchor.

    Raises CertificateChainInvalid (``check``) when it does not chain, and ``expired``
    (``expired_check``, default ``check``) when a certificate is outside its validity
    window at ``now``.
    """
    certs = list(chain)
    if not certs:
        raise CertificateChainInvalid(check, "empty certificate chain")
    anchor: x509.Certificate | None = None
    if len(certs) > 1 and certs[-1].issuer == certs[-1].subject:
        root = certs.pop()
        anchor = next((a for a in roots.anchors if a == root), None)  # equal DER bytes
        if anchor is None:
            raise CertificateChainInvalid(
                check, f"the chain's root {common_name(root.subject)!r} is not a trusted root"
            )
    else:
        anchor = next((a for a in roots.anchors if _issued_by(certs[-1], a)), None)
        if anchor is None:
            raise CertificateChainInvalid(
                check, f"{common_name(certs[-1].issuer)!r} is not a trusted root"
            )
    for cert, issuer in zip(certs, [*certs[1:], anchor], strict=True):
        _check_issuer_is_ca(issuer, check)
        if not _issued_by(cert, issuer):
            raise CertificateChainInvalid(
                check,
                f"{common_name(cert.subject)!r} is not signed by {common_name(issuer.subject)!r}",
            )
    for cert in [*certs, anchor]:
        check_validity(cert, now, check=expired_check or check, error=expired)
    return anchor


def check_validity(
    cert: x509.Certificate, now: datetime, *, check: str, error: type[VerifierError]
) -> None:
    if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
        raise error(
            check,
            f"{common_name(cert.subject)!r} is valid from {cert.not_valid_before_utc:%Y-%m-%d} "
            f"to {cert.not_valid_after_utc:%Y-%m-%d}, not at {now:%Y-%m-%dT%H:%M:%SZ}",
        )


def _issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
        return False
    return True


def _check_issuer_is_ca(issuer: x509.Certificate, check: str) -> None:
    try:
        constraints = issuer.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        constraints = None
    if constraints is None or not constraints.ca:
        raise CertificateChainInvalid(check, f"{common_name(issuer.subject)!r} is not a CA")
    try:
        usage = issuer.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return
    if not usage.key_cert_sign:
        raise CertificateChainInvalid(
            check, f"{common_name(issuer.subject)!r} may not sign certificates"
        )


def load_crl(der: bytes, *, check: str, what: str) -> x509.CertificateRevocationList:
    try:
        return _parse_crl(bytes(der))
    except ValueError as exc:
        raise CollateralInvalid(check, f"the {what} is not a DER CRL: {exc}") from None


@lru_cache(maxsize=32)
def _parse_crl(der: bytes) -> x509.CertificateRevocationList:
    """Parsed CRLs are cached by their bytes; their signatures are checked on every use.

    Parsed completely: MalformedEvidence (a ValueError) for any damaged part.
    """
    return load_der_crl(der, "crl")


def verify_crl(
    crl: x509.CertificateRevocationList,
    issuer: x509.Certificate,
    now: datetime,
    *,
    check: str,
    what: str,
) -> None:
    """Check that ``issuer`` signed ``crl`` and that it is current at ``now``."""
    if crl.issuer != issuer.subject:
        raise CollateralInvalid(
            check,
            f"the {what} is issued by {common_name(crl.issuer)!r}, "
            f"not {common_name(issuer.subject)!r}",
        )
    try:
        valid = crl.is_signature_valid(issuer.public_key())  # type: ignore[arg-type]
    except (TypeError, UnsupportedAlgorithm):
        valid = False
    if not valid:
        raise CollateralInvalid(check, f"the {what}'s signature does not verify")
    next_update = crl.next_update_utc
    if not crl.last_update_utc <= now or next_update is None or now > next_update:
        until = next_update.isoformat() if next_update else "an unknown date"
        raise CollateralExpired(
            EXPIRED_CHECK,
            f"the {what} is valid from {crl.last_update_utc.isoformat()} to {until}, "
            f"not at {now.isoformat()}",
        )


def ensure_not_revoked(
    crl: x509.CertificateRevocationList, cert: x509.Certificate, *, check: str
) -> None:
    revoked = crl.get_revoked_certificate_by_serial_number(cert.serial_number)
    if revoked is not None:
        raise CertificateChainInvalid(
            check,
            f"{common_name(cert.subject)!r} (serial {cert.serial_number:x}) was revoked "
            f"on {revoked.revocation_date_utc:%Y-%m-%d}",
        )
