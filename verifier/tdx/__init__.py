"""Offline verification of Intel TDX evidence (DCAP quotes v4/v5).

::

    verify_tdx(evidence, *, roots, now, collateral) -> VerifiedEvidence

Checks, by name: ``tdx.quote-signature``, ``tdx.pck-chain``, ``tdx.qe-report-signature``,
``tdx.ak-binding``, ``tdx.collateral`` (missing: could not check),
``tdx.tcb-signing-chain``, ``tdx.tcb-info-signature``, ``tdx.qe-identity-signature``,
``tdx.crl``, ``tdx.collateral-expired`` (could not check), ``tdx.tcb-info``, ``tdx.fmspc``,
``tdx.tdx-module``, ``tdx.tcb-status``, ``tdx.qe-identity``, ``tdx.report-data``,
``tdx.tdreport`` (a bare TDREPORT: could not check), ``tdx.roots``.
"""

from verifier.tdx.tcb_status import TcbResult, converge, evaluate_tcb
from verifier.tdx.verify import verify_tdx

__all__ = ["TcbResult", "converge", "evaluate_tcb", "verify_tdx"]
