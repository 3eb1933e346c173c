"""``verify_vtpm``: a vTPM quote, its PCRs, its qualifying data and its AK's binding.

Order: parse everything (bad input first), then the AK's attributes and the signature over
the raw TPMS_ATTEST bytes, then what the signed quote says (qualifying data, PCR digest),
then why the AK is trusted (:mod:`verifier.vtpm.binding`). No policy is applied.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from attestation.evidence import Evidence
from attestation.formats.tpm import PcrValues, QuoteAttest, TpmPublic, TpmSignature
from attestation.formats.tpm.constants import alg_name
from verifier.claims import VerifiedEvidence
from verifier.collateral import CollateralSource
from verifier.errors import BadInput
from verifier.trust import TrustedRoots
from verifier.vtpm.binding import bind_ak
from verifier.vtpm.hardware import HARDWARE_VERIFIERS, HardwareVerifier
from verifier.vtpm.quote import (
    check_ak_attributes,
    check_nonce,
    check_pcrs,
    verify_quote_signature,
)

REQUIRED_EXTRA = ("signature", "ak_public", "pcrs")


def verify_vtpm(
    evidence: Evidence,
    *,
    roots: TrustedRoots,
    now: datetime,
    collateral: CollateralSource | None = None,
    hardware: Mapping[str, HardwareVerifier] | None = None,
) -> VerifiedEvidence:
    """Verify vTPM evidence, or raise a :class:`~verifier.errors.VerifierError`.

    ``roots`` anchor the AK certificate and the hardware report's chain; ``collateral``
    goes to the hardware verifier (TDX: TCB info, QE identity, CRLs; without it, the
    evidence's own collateral is used); ``hardware`` overrides :data:`HARDWARE_VERIFIERS`.
    """
    if evidence.platform != "vtpm":
        raise BadInput("vtpm.platform", f"expected vtpm evidence, got {evidence.platform}")
    if now.tzinfo is None:
        raise BadInput("vtpm.now", "now must be timezone-aware")
    missing = [name for name in REQUIRED_EXTRA if name not in evidence.extra]
    if missing:
        raise BadInput("vtpm.evidence", f"missing extra {', '.join(missing)}")
    ak = TpmPublic.from_bytes(evidence.extra["ak_public"])
    signature = TpmSignature.from_bytes(evidence.extra["signature"])
    values = PcrValues.from_bytes(evidence.extra["pcrs"])

    checks = [check_ak_attributes(ak), verify_quote_signature(evidence.report, signature, ak)]
    quote = QuoteAttest.from_bytes(evidence.report)
    nonce_check, qualifying_form = check_nonce(quote, evidence.report_data)
    checks += [nonce_check, check_pcrs(quote, values, signature)]
    binding = bind_ak(
        evidence,
        ak,
        roots=roots,
        now=now,
        collateral=collateral,
        hardware=HARDWARE_VERIFIERS if hardware is None else hardware,
    )
    details: dict[str, Any] = {
        "binding": binding.kind,
        "qualifying_data": qualifying_form,
        "ak": {"type": alg_name(ak.type), "name": ak.name().hex()},
        "quote": {
            "qualified_signer": quote.qualified_signer.hex(),
            "clock": quote.clock_info.clock,
            "reset_count": quote.clock_info.reset_count,
            "restart_count": quote.clock_info.restart_count,
            "safe": quote.clock_info.safe,
            "firmware_version": f"{quote.firmware_version:016x}",
            "pcr_banks": [bank.hash.name for bank in values.selection.banks],
        },
        **binding.details,
    }
    return VerifiedEvidence(
        platform="vtpm",
        report_data=evidence.report_data,
        measurements={**pcr_measurements(values), **binding.measurements},
        debug=binding.debug,
        tcb=binding.tcb,
        signer=binding.signer,
        checked_at=now,
        checks=(*checks, *binding.checks),
        details=details,
    )


def pcr_measurements(values: PcrValues) -> dict[str, str]:
    """``pcrN`` for the SHA-256 bank, ``<bank>:pcrN`` for any other bank; lowercase hex."""
    return {
        (f"pcr{index}" if bank == "sha256" else f"{bank}:pcr{index}"): value.hex()
        for bank, index, value in values.items()
    }
