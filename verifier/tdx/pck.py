"""The PCK certificate chain inside a quote: to the trusted root, unrevoked, and its SGX TCB."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from cryptography import x509

from attestation.errors import MalformedEvidence
from attestation.formats.tdx import SGX_EXTENSIONS_OID, PckExtensions, TdxQuote
from verifier.collateral.model import PckCa
from verifier.errors import CertificateChainInvalid, CouldNotCheck
from verifier.tdx.chain import (
    common_name,
    ensure_not_revoked,
    load_crl,
    verify_chain,
    verify_crl,
)
from verifier.tdx.pem import load_pem_chain
from verifier.trust import TrustedRoots

CHECK = "tdx.pck-chain"


@dataclass(frozen=True)
class PckChain:
    leaf: x509.Certificate
    intermediate: x509.Certificate
    anchor: x509.Certificate
    extensions: PckExtensions
    ca: PckCa


def verify_pck_chain(quote: TdxQuote, roots: TrustedRoots, now: datetime) -> PckChain:
    certification = quote.signature_data.qe.certification_data
    pem = certification.pck_chain_pem
    if pem is None:
        raise CouldNotCheck(
            CHECK,
            f"the quote carries certification data type {certification.type}, not the PCK "
            "chain (type 5); fetching PCK certificates by PPID is not supported",
        )
    try:
        certs = load_pem_chain(pem)
    except ValueError as exc:
        raise MalformedEvidence(f"the PCK chain is not PEM: {exc}", field="pck_chain") from None
    if len(certs) < 2:
        raise CertificateChainInvalid(CHECK, "the PCK chain lacks its intermediate CA")
    anchor = verify_chain(certs, roots, now, check=CHECK)
    leaf, intermediate = certs[0], certs[1]
    name = common_name(intermediate.subject)
    ca: PckCa
    if "Platform CA" in name:
        ca = "platform"
    elif "Processor CA" in name:
        ca = "processor"
    else:
        raise CertificateChainInvalid(CHECK, f"{name!r} is neither a PCK Platform nor Processor CA")
    try:
        value = leaf.extensions.get_extension_for_oid(x509.ObjectIdentifier(SGX_EXTENSIONS_OID))
    except x509.ExtensionNotFound:
        raise CertificateChainInvalid(CHECK, "the PCK certificate has no SGX extensions") from None
    if not isinstance(value.value, x509.UnrecognizedExtension):  # pragma: no cover - defensive
        raise CertificateChainInvalid(CHECK, "unexpected SGX extension encoding")
    return PckChain(leaf, intermediate, anchor, _extensions(value.value.value), ca)


@lru_cache(maxsize=64)
def _extensions(der: bytes) -> PckExtensions:
    """Parsed SGX extensions, cached by their bytes (the certificate was just verified)."""
    return PckExtensions.from_der(der)


def check_revocation(
    pck: PckChain, root_crl: x509.CertificateRevocationList, pck_crl_der: bytes, now: datetime
) -> None:
    """The root CRL must not revoke the PCK CA; the PCK CA's CRL must not revoke the leaf."""
    ensure_not_revoked(root_crl, pck.intermediate, check="tdx.crl")
    pck_crl = load_crl(pck_crl_der, check="tdx.crl", what="PCK CRL")
    verify_crl(pck_crl, pck.intermediate, now, check="tdx.crl", what="PCK CRL")
    ensure_not_revoked(pck_crl, pck.leaf, check="tdx.crl")
