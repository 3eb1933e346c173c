"""The seam to the hardware verifiers that an Azure HCL report is delegated to.

An Azure confidential VM's HCL report embeds an SEV-SNP report or a TDX TDREPORT. Checking
the hardware's signature, chain and TCB is the SNP or TDX verifier's job; this package asks
it for :class:`VerifiedEvidence`, then checks that the verified REPORT_DATA binds the HCL
runtime data, which names the AK.

- **SEV-SNP**: the embedded report is the signed report itself.
- **TDX**: a TDREPORT is MAC'd for the local CPU, not signed, so it cannot be checked
  offline. Azure turns it into a TD quote (its instance metadata service); that quote,
  carried as ``extra["td_quote"]``, is what gets verified, and it must bind the same
  REPORTDATA as the TDREPORT.

``HARDWARE_VERIFIERS`` maps a platform name to its verifier (``sev-snp``:
:func:`verifier.snp.verify_snp`, ``tdx``: :func:`verifier.tdx.verify_tdx`); callers may pass
their own mapping.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Protocol

from attestation.evidence import Evidence
from attestation.formats.hcl import HclReport
from verifier.claims import VerifiedEvidence
from verifier.collateral import CollateralSource, NoCollateral
from verifier.errors import CouldNotCheck
from verifier.snp import verify_snp
from verifier.tdx import verify_tdx
from verifier.trust import TrustedRoots

TD_QUOTE = "td_quote"


class HardwareVerifier(Protocol):
    """Verifies one platform's evidence (signature, chain, TCB), applying no policy."""

    def __call__(
        self,
        evidence: Evidence,
        *,
        roots: TrustedRoots,
        now: datetime,
        collateral: CollateralSource | None = None,
    ) -> VerifiedEvidence: ...


def _verify_snp(
    evidence: Evidence,
    *,
    roots: TrustedRoots,
    now: datetime,
    collateral: CollateralSource | None = None,
) -> VerifiedEvidence:
    """verify_snp takes no collateral: the VCEK (and ASK) travel in the evidence."""
    return verify_snp(evidence, roots=roots, now=now)


def _verify_tdx(
    evidence: Evidence,
    *,
    roots: TrustedRoots,
    now: datetime,
    collateral: CollateralSource | None = None,
) -> VerifiedEvidence:
    """verify_tdx with the caller's collateral source, else the evidence's own collateral."""
    source = collateral if collateral is not None else NoCollateral()
    return verify_tdx(evidence, roots=roots, now=now, collateral=source)


HARDWARE_VERIFIERS: Mapping[str, HardwareVerifier] = MappingProxyType(
    {"sev-snp": _verify_snp, "tdx": _verify_tdx}
)


def hardware_evidence(hcl: HclReport, vtpm: Evidence, *, check: str) -> Evidence:
    """The HCL report's hardware evidence, as evidence of its own platform.

    ``report_data`` is the REPORT_DATA of the embedded report (for TDX: of the TDREPORT,
    which the TD quote must repeat); the binding that matters, REPORT_DATA starting with
    H(runtime data), is checked by the caller on what the hardware verifier returns.
    Certificates (VCEK, ASK...) and collateral are passed through; the AK's are not.
    """
    report = hcl.hardware_report
    if hcl.platform == "tdx":
        if TD_QUOTE not in vtpm.extra:
            raise CouldNotCheck(
                check, "the HCL report holds a TDX TDREPORT, which is MAC'd, not signed: the "
                "evidence needs the TD quote made from it (extra['td_quote'])",
            )  # fmt: skip
        report = vtpm.extra[TD_QUOTE]
    return Evidence(
        platform="sev-snp" if hcl.platform == "sev-snp" else "tdx",
        report=report,
        report_data=hcl.hardware_report_data,
        provider=f"{vtpm.provider}/hcl",
        certificates={k: v for k, v in vtpm.certificates.items() if not k.startswith("ak")},
        collateral=vtpm.collateral,
    )
