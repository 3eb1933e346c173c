"""The certificate chain of a Nitro document: leaf, then ``cabundle`` backwards, to a root.

NSM hands out ``cabundle = [root, intermediate_1, ..., intermediate_n]`` and signs with
``certificate``, issued by ``intermediate_n``. The path checked is therefore::

    certificate <- intermediate_n <- ... <- intermediate_1 <- cabundle[0]

and ``cabundle[0]`` must be, byte for byte, one of the trusted anchors: a root that is
merely *present* somewhere among the anchors of another chain is not enough.

Structure and signatures (``nitro.chain``) are checked apart from time
(``nitro.validity``), so that a document checked at the wrong time says so.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Sequence
from datetime import datetime
from typing import TypeVar

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives.serialization import Encoding

from verifier.errors import CertificateChainInvalid, CouldNotCheck
from verifier.trust import TrustedRoots

CHAIN = "nitro.chain"
VALIDITY = "nitro.validity"
_E = TypeVar("_E", bound=x509.ExtensionType)
_UNDERSTOOD_CRITICAL = frozenset({x509.OID_BASIC_CONSTRAINTS, x509.OID_KEY_USAGE})


def _name(cert: x509.Certificate) -> str:
    return cert.subject.rfc4514_string() or "(empty subject)"


def _extension(cert: x509.Certificate, kind: type[_E]) -> _E | None:
    try:
        return cert.extensions.get_extension_for_class(kind).value
    except x509.ExtensionNotFound:
        return None


def _check_critical(cert: x509.Certificate) -> None:
    for ext in cert.extensions:
        if ext.critical and ext.oid not in _UNDERSTOOD_CRITICAL:
            raise CertificateChainInvalid(
                CHAIN, f"{_name(cert)} has an unknown critical extension {ext.oid.dotted_string}"
            )


def _check_issuer(cert: x509.Certificate, cas_below: int) -> None:
    """A certificate that signs another: a CA allowed to sign, with room for the path."""
    _check_critical(cert)
    constraints = _extension(cert, x509.BasicConstraints)
    if constraints is None or not constraints.ca:
        raise CertificateChainInvalid(CHAIN, f"{_name(cert)} is not a CA but issues a certificate")
    if constraints.path_length is not None and constraints.path_length < cas_below:
        raise CertificateChainInvalid(
            CHAIN, f"{_name(cert)} allows {constraints.path_length} CAs below it, has {cas_below}"
        )
    usage = _extension(cert, x509.KeyUsage)
    if usage is None or not usage.key_cert_sign:
        raise CertificateChainInvalid(CHAIN, f"{_name(cert)} may not sign certificates")


def _check_leaf(cert: x509.Certificate) -> None:
    _check_critical(cert)
    constraints = _extension(cert, x509.BasicConstraints)
    if constraints is not None and constraints.ca:
        raise CertificateChainInvalid(CHAIN, f"the signing certificate {_name(cert)} is a CA")
    usage = _extension(cert, x509.KeyUsage)
    if usage is not None and not usage.digital_signature:
        raise CertificateChainInvalid(CHAIN, f"{_name(cert)} may not make digital signatures")


def _anchor_for(root_der: bytes, roots: TrustedRoots) -> x509.Certificate:
    if not roots:
        raise CouldNotCheck(CHAIN, "no trusted roots were given")
    for anchor in roots.anchors:
        if anchor.public_bytes(Encoding.DER) == root_der:
            return anchor
    fingerprint = hashlib.sha256(root_der).hexdigest()
    raise CertificateChainInvalid(
        CHAIN, f"the document's root (sha256 {fingerprint}) is not a trusted anchor"
    )


def verify_chain(
    leaf: x509.Certificate,
    bundle: Sequence[x509.Certificate],
    root_der: bytes,
    roots: TrustedRoots,
) -> list[x509.Certificate]:
    """Check names, constraints and signatures from ``leaf`` up to a trusted anchor.

    ``bundle`` is the parsed ``cabundle`` (root first) and ``root_der`` its first
    entry's bytes. Returns the path, leaf first, anchor last. No time is checked here.
    """
    anchor = _anchor_for(root_der, roots)
    path = [leaf, *reversed(bundle[1:]), anchor]
    _check_leaf(leaf)
    for below, (child, issuer) in enumerate(itertools.pairwise(path)):
        _check_issuer(issuer, cas_below=below)
        try:
            child.verify_directly_issued_by(issuer)
        except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm) as exc:
            reason = str(exc) or "the signature does not verify"
            raise CertificateChainInvalid(
                CHAIN, f"{_name(child)} is not issued by {_name(issuer)}: {reason}"
            ) from None
    return path


def check_validity(path: Sequence[x509.Certificate], at: datetime) -> None:
    """Every certificate of the path, the anchor included, is valid at ``at``."""
    for cert in path:
        if not cert.not_valid_before_utc <= at <= cert.not_valid_after_utc:
            raise CertificateChainInvalid(
                VALIDITY,
                f"{_name(cert)} is valid from {cert.not_valid_before_utc.isoformat()} "
                f"to {cert.not_valid_after_utc.isoformat()}, not at {at.isoformat()}",
            )
