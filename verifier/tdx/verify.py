"""``verify_tdx``: check TDX evidence end to end and return what it claims.

Order: the quote's own signatures and the PCK chain first (no collateral needed), then
the collateral (could not check if it is missing or stale), then TCB evaluation, and the
REPORT_DATA binding last. Every failure names its check (``tdx.quote-signature``...).
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from attestation.evidence import Evidence
from attestation.formats.tdx import TdReport, TdxQuote, is_tdreport
from verifier.claims import Check, VerifiedEvidence
from verifier.collateral.errors import CollateralUnavailable
from verifier.collateral.model import PckCa, TdxCollateral
from verifier.collateral.source import CollateralSource, NoCollateral
from verifier.errors import BadInput, BindingMismatch, CouldNotCheck, EvidenceSignatureInvalid
from verifier.tdx.claims import build_claims
from verifier.tdx.collateral_checks import verify_collateral
from verifier.tdx.pck import check_revocation, verify_pck_chain
from verifier.tdx.signatures import (
    check_ak_binding,
    check_qe_report_signature,
    check_quote_signature,
)
from verifier.tdx.tcb_status import evaluate_tcb
from verifier.trust import TrustedRoots


def verify_tdx(
    evidence: Evidence,
    *,
    roots: TrustedRoots,
    now: datetime,
    collateral: CollateralSource | None,
) -> VerifiedEvidence:
    """Verify TDX ``evidence`` at ``now`` against ``roots`` with collateral from ``collateral``.

    The configured source is asked first (None: no source); collateral carried by the
    evidence itself is used only when the source has none. Both are checked identically.
    Raises a :class:`~verifier.errors.VerificationFailed` subclass, a
    :class:`~verifier.errors.CouldNotCheck` (missing roots or collateral, stale
    collateral, a bare TDREPORT), or :class:`~attestation.errors.MalformedEvidence`.
    """
    if evidence.platform != "tdx":
        raise BadInput("tdx.platform", f"evidence is for {evidence.platform!r}, not 'tdx'")
    if now.tzinfo is None:
        raise BadInput("tdx.time", "the verification time must carry a time zone")
    if not roots:
        raise CouldNotCheck("tdx.roots", "no trusted roots were given")
    if is_tdreport(evidence.report):
        check_tdreport(evidence)
    quote = TdxQuote.from_bytes(evidence.report)
    checks = [
        Check("tdx.quote-format", f"TDX quote v{quote.version}, body type {quote.body.body_type}")
    ]

    check_quote_signature(quote)
    checks.append(Check("tdx.quote-signature", "the attestation key signed the TD report"))
    pck = verify_pck_chain(quote, roots, now)
    checks.append(Check("tdx.pck-chain", f"PCK chain ({pck.ca} CA) leads to a trusted root"))
    check_qe_report_signature(quote, pck.leaf)
    checks.append(Check("tdx.qe-report-signature", "the PCK key signed the QE report"))
    check_ak_binding(quote)
    checks.append(Check("tdx.ak-binding", "the QE report binds the attestation key"))

    fmspc = pck.extensions.fmspc.hex()
    source = collateral if collateral is not None else NoCollateral()
    found = _collateral(evidence, source, fmspc=fmspc, ca=pck.ca, now=now)
    verified = verify_collateral(found, anchor=pck.anchor, now=now)
    checks.append(
        Check("tdx.tcb-info-signature", "TCB info and QE identity are signed under the same root")
    )
    check_revocation(pck, verified.root_crl, verified.pck_crl, now)
    checks.append(Check("tdx.crl", "neither the PCK certificate nor its CA is revoked"))
    checks.append(Check("tdx.collateral-expired", f"collateral is current at {now.isoformat()}"))

    tcb = evaluate_tcb(
        body=quote.body,
        pck=pck.extensions,
        qe_report=quote.signature_data.qe.qe_report,
        tcb_info=verified.tcb_info,
        qe_identity=verified.qe_identity,
    )
    checks.append(Check("tdx.qe-identity", f"the QE is Intel's (QE TCB {tcb.qe.status})"))
    checks.append(Check("tdx.tcb-status", f"TCB status {tcb.status} for FMSPC {fmspc}"))

    if quote.body.report_data != evidence.report_data:
        raise BindingMismatch(
            "tdx.report-data", "the quote's REPORTDATA is not the evidence's report_data"
        )
    checks.append(Check("tdx.report-data", "REPORTDATA is the expected report_data"))
    return build_claims(
        quote=quote, pck=pck, collateral=verified, tcb=tcb, now=now, checks=tuple(checks)
    )


def _collateral(
    evidence: Evidence, source: CollateralSource, *, fmspc: str, ca: PckCa, now: datetime
) -> TdxCollateral:
    try:
        return source.tdx_collateral(fmspc=fmspc, ca=ca, now=now)
    except CollateralUnavailable as exc:
        carried = TdxCollateral.from_evidence(evidence.collateral)
        if carried is None:
            raise CollateralUnavailable(
                "tdx.collateral", f"no TDX collateral for FMSPC {fmspc}: {exc.reason}"
            ) from None
        return carried


def check_tdreport(evidence: Evidence) -> None:
    """A TDREPORT's MAC only the CPU can check: after consistency checks, could not check."""
    report = TdReport.from_bytes(evidence.report)
    if hashlib.sha384(report.tee_tcb_info.to_bytes()).digest() != report.tee_tcb_info_hash:
        raise EvidenceSignatureInvalid("tdx.tdreport", "TEE_TCB_INFO_HASH does not match")
    if hashlib.sha384(report.td_info.to_bytes()).digest() != report.tee_info_hash:
        raise EvidenceSignatureInvalid("tdx.tdreport", "TEE_INFO_HASH does not match TDINFO")
    if report.report_data != evidence.report_data:
        raise BindingMismatch("tdx.report-data", "the TDREPORT's REPORTDATA is not report_data")
    raise CouldNotCheck(
        "tdx.tdreport",
        "this is a TDREPORT, MACed with a key only its CPU holds; it must be turned into a "
        "quote by a quoting enclave before anyone else can verify it",
    )
