"""Verify a TDX collateral set: issuer chains, signatures over the raw JSON, CRLs, freshness.

The TCB info and the QE identity are signed (ECDSA P-256) by the Intel SGX TCB Signing
certificate over the exact bytes of their JSON value. That certificate must chain to the
same anchor as the quote's PCK chain, so that one vendor's collateral can never judge
another's quote when several roots are trusted. The root CA CRL must be signed by that
anchor and not revoke the TCB Signing certificate.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from cryptography import x509

from verifier.collateral.errors import CollateralExpired, CollateralInvalid
from verifier.collateral.model import TdxCollateral
from verifier.errors import CertificateChainInvalid
from verifier.tdx.chain import (
    EXPIRED_CHECK,
    ensure_not_revoked,
    load_crl,
    verify_chain,
    verify_crl,
)
from verifier.tdx.ecdsa import verify_raw
from verifier.tdx.pem import load_pem_chain
from verifier.tdx.qe_identity import QeIdentity
from verifier.tdx.tcb_info import TcbInfo
from verifier.trust import TrustedRoots


@dataclass(frozen=True)
class VerifiedCollateral:
    tcb_info: TcbInfo
    qe_identity: QeIdentity
    root_crl: x509.CertificateRevocationList
    pck_crl: bytes  # checked against the quote's PCK intermediate by the PCK step
    signer: x509.Certificate
    origin: str


def verify_collateral(
    collateral: TdxCollateral, *, anchor: x509.Certificate, now: datetime
) -> VerifiedCollateral:
    """Check ``collateral`` against ``anchor`` (the root the PCK chain led to) at ``now``."""
    roots = TrustedRoots(anchors=(anchor,))
    signer = _signed_by(
        collateral.tcb_info,
        collateral.tcb_info_signature,
        collateral.tcb_info_issuer_chain,
        roots,
        now,
        what="TCB info",
        check="tdx.tcb-info-signature",
    )
    qe_signer = _signed_by(
        collateral.qe_identity,
        collateral.qe_identity_signature,
        collateral.qe_identity_issuer_chain,
        roots,
        now,
        what="QE identity",
        check="tdx.qe-identity-signature",
    )
    root_crl = load_crl(collateral.root_ca_crl, check="tdx.crl", what="root CA CRL")
    verify_crl(root_crl, anchor, now, check="tdx.crl", what="root CA CRL")
    for cert in (signer, qe_signer):  # the same TCB Signing certificate, in practice
        ensure_not_revoked(root_crl, cert, check="tdx.crl")
    tcb_info = _tcb_info(collateral.tcb_info)
    qe_identity = _qe_identity(collateral.qe_identity)
    _fresh("TCB info", tcb_info.issue_date, tcb_info.next_update, now)
    _fresh("QE identity", qe_identity.issue_date, qe_identity.next_update, now)
    return VerifiedCollateral(
        tcb_info, qe_identity, root_crl, collateral.pck_crl, signer, collateral.origin
    )


@lru_cache(maxsize=32)
def _tcb_info(raw: bytes) -> TcbInfo:
    """Parsed after its signature verified; cached by its bytes (the result is immutable)."""
    return TcbInfo.from_json(raw)


@lru_cache(maxsize=32)
def _qe_identity(raw: bytes) -> QeIdentity:
    return QeIdentity.from_json(raw)


def _signed_by(
    raw: bytes,
    signature: bytes,
    chain_pem: bytes,
    roots: TrustedRoots,
    now: datetime,
    *,
    what: str,
    check: str,
) -> x509.Certificate:
    try:
        chain = load_pem_chain(chain_pem)
    except ValueError as exc:
        raise CollateralInvalid(check, f"the {what} issuer chain is not PEM: {exc}") from None
    try:
        verify_chain(
            chain,
            roots,
            now,
            check="tdx.tcb-signing-chain",
            expired=CollateralExpired,
            expired_check=EXPIRED_CHECK,
        )
    except CertificateChainInvalid as exc:
        raise CertificateChainInvalid(
            "tdx.tcb-signing-chain", f"{what} issuer chain: {exc.reason}"
        ) from None
    if not verify_raw(chain[0].public_key(), signature, raw):
        raise CollateralInvalid(
            check, f"the {what} signature does not verify over its raw JSON bytes"
        )
    return chain[0]


def _fresh(what: str, issued: datetime, next_update: datetime, now: datetime) -> None:
    if not issued <= now <= next_update:
        raise CollateralExpired(
            EXPIRED_CHECK,
            f"the {what} is valid from {issued.isoformat()} to {next_update.isoformat()}, "
            f"not at {now.isoformat()}",
        )
