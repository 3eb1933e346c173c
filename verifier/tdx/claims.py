"""Turn a verified TDX quote into :class:`VerifiedEvidence` claims."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from attestation.formats.tdx import TdxQuote
from verifier.claims import Check, VerifiedEvidence
from verifier.tdx.chain import common_name
from verifier.tdx.collateral_checks import VerifiedCollateral
from verifier.tdx.pck import PckChain
from verifier.tdx.tcb_status import TcbResult


def build_claims(
    *,
    quote: TdxQuote,
    pck: PckChain,
    collateral: VerifiedCollateral,
    tcb: TcbResult,
    now: datetime,
    checks: tuple[Check, ...],
) -> VerifiedEvidence:
    body = quote.body
    measurements = {
        "mrtd": body.mrtd.hex(),
        "rtmr0": body.rtmrs[0].hex(),
        "rtmr1": body.rtmrs[1].hex(),
        "rtmr2": body.rtmrs[2].hex(),
        "rtmr3": body.rtmrs[3].hex(),
        "mrconfigid": body.mrconfigid.hex(),
        "mrowner": body.mrowner.hex(),
        "mrownerconfig": body.mrownerconfig.hex(),
        "mrseam": body.mrseam.hex(),
    }
    qe = quote.signature_data.qe.qe_report
    details: dict[str, Any] = {
        "quote_version": quote.version,
        "body_type": body.body_type,
        "td_attributes": body.td_attributes.hex(),
        "xfam": body.xfam.hex(),
        "seam_attributes": body.seam_attributes.hex(),
        "mrsignerseam": body.mrsignerseam.hex(),
        "qe": {
            "isv_svn": qe.isv_svn,
            "isv_prod_id": qe.isv_prod_id,
            "mrsigner": qe.mrsigner.hex(),
            "tcb_status": tcb.qe.status,
        },
        "pck": {
            "ca": pck.ca,
            "pce_svn": pck.extensions.pce_svn,
            "sgx_tcb_components": list(pck.extensions.tcb_components),
            "sgx_type": pck.extensions.sgx_type,
        },
        "platform_tcb": {
            "status": tcb.platform.status,
            "tcb_date": tcb.tcb_date.isoformat(),
            "module_id": tcb.module_id,
            "module_status": tcb.module.status if tcb.module else None,
        },
        "collateral": {
            "origin": collateral.origin,
            "tcb_evaluation_data_number": collateral.tcb_info.evaluation_data_number,
            "tcb_info_issue_date": collateral.tcb_info.issue_date.isoformat(),
            "tcb_info_next_update": collateral.tcb_info.next_update.isoformat(),
            "qe_identity_next_update": collateral.qe_identity.next_update.isoformat(),
        },
    }
    if body.tee_tcb_svn2 is not None and body.mrservicetd is not None:
        details["tee_tcb_svn2"] = body.tee_tcb_svn2.hex()
        details["mrservicetd"] = body.mrservicetd.hex()
    return VerifiedEvidence(
        platform="tdx",
        report_data=body.report_data,
        measurements=measurements,
        debug=body.debug,
        tcb={
            "status": tcb.status,
            "advisory_ids": list(tcb.advisory_ids),
            "fmspc": pck.extensions.fmspc.hex(),
            "tee_tcb_svn": body.tee_tcb_svn.hex(),
        },
        signer=(
            f"Intel TDX QE, PCK by {common_name(pck.intermediate.subject)} "
            f"under {common_name(pck.anchor.subject)}"
        ),
        checked_at=now,
        checks=checks,
        details=details,
    )
