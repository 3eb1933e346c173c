"""X.509 path building for AK certificates: leaf → untrusted intermediates → a trusted anchor.

Intermediates that come with the evidence are untrusted: they count only as links of a
path that ends at an anchor of :class:`TrustedRoots`. Every certificate on the path must be
valid at ``now``; every issuer but the anchor must be a CA (basicConstraints).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm

from verifier.errors import CertificateChainInvalid, CouldNotCheck
from verifier.trust import TrustedRoots

MAX_PATH_LENGTH = 6


def _subject(cert: x509.Certificate) -> str:
    return cert.subject.rfc4514_string() or "(empty subject)"


def _issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
        return False
    return True


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        return False
    return constraints.ca


def _check_validity(cert: x509.Certificate, now: datetime, check: str) -> None:
    if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
        raise CertificateChainInvalid(
            check,
            f"{_subject(cert)} is valid from {cert.not_valid_before_utc.isoformat()} to "
            f"{cert.not_valid_after_utc.isoformat()}, not at {now.isoformat()}",
        )


def verify_path(
    leaf: x509.Certificate,
    *,
    intermediates: Sequence[x509.Certificate],
    roots: TrustedRoots,
    now: datetime,
    check: str,
) -> list[x509.Certificate]:
    """The path from ``leaf`` to a trusted anchor, anchor last; raise when there is none."""
    if not roots:
        raise CouldNotCheck(check, "no trusted roots were given for the AK certificate")
    pool = [*intermediates, *roots.intermediates]
    path = [leaf]
    current = leaf
    for _ in range(MAX_PATH_LENGTH):
        _check_validity(current, now, check)
        anchor = next((a for a in roots.anchors if _issued_by(current, a)), None)
        if anchor is not None:
            _check_validity(anchor, now, check)
            return [*path, anchor]
        parent = next(
            (c for c in pool if c not in path and _is_ca(c) and _issued_by(current, c)), None
        )
        if parent is None:
            raise CertificateChainInvalid(
                check, f"{_subject(current)} does not chain to a trusted root"
            )
        path.append(parent)
        current = parent
    raise CertificateChainInvalid(check, f"no trusted root within {MAX_PATH_LENGTH} certificates")
