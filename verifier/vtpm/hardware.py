"""The seam to the hardware verifiers that an Azure HCL report is delegated to.

An Azure confidential VM's HCL report embeds an SEV-SNP report (or a TDX TDREPORT). Its
signature and certificate chain are the SNP (TDX) verifier's job; this package only asks
it for :class:`VerifiedEvidence` of the embedded report, then checks that the report's
REPORT_DATA binds the HCL runtime data, which names the AK.

``HARDWARE_VERIFIERS`` maps a platform name to such a verifier: ``sev-snp`` is
:func:`verifier.snp.verify_snp`. There is no ``tdx`` entry: Azure's TDX HCL report holds a
TDREPORT, which no offline verifier can check (see :mod:`verifier.vtpm.binding`). Callers
may pass their own mapping.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Protocol

from attestation.evidence import Evidence
from attestation.formats.hcl import HclReport
from verifier.claims import VerifiedEvidence
from verifier.snp import verify_snp
from verifier.trust import TrustedRoots


class HardwareVerifier(Protocol):
    """Verifies one platform's evidence (signature, chain, TCB), applying no policy."""

    def __call__(
        self,
        evidence: Evidence,
        *,
        roots: TrustedRoots,
        now: datetime,
        collateral: object | None = None,
    ) -> VerifiedEvidence: ...


def _verify_snp(
    evidence: Evidence, *, roots: TrustedRoots, now: datetime, collateral: object | None = None
) -> VerifiedEvidence:
    """verify_snp needs no collateral: the VCEK (and ASK) travel in the evidence."""
    return verify_snp(evidence, roots=roots, now=now)


HARDWARE_VERIFIERS: Mapping[str, HardwareVerifier] = MappingProxyType({"sev-snp": _verify_snp})


def hardware_evidence(hcl: HclReport, vtpm: Evidence) -> Evidence:
    """The embedded hardware report as evidence of its own platform.

    ``report_data`` is the report's own REPORT_DATA, so the delegate's binding check is
    trivially met; the binding that matters (REPORT_DATA starts with H(runtime data)) is
    checked by the caller. Certificates (VCEK, ASK...) and collateral are passed through;
    the AK certificate is not the hardware's.
    """
    return Evidence(
        platform="sev-snp" if hcl.platform == "sev-snp" else "tdx",
        report=hcl.hardware_report,
        report_data=hcl.hardware_report_data,
        provider=f"{vtpm.provider}/hcl",
        certificates={k: v for k, v in vtpm.certificates.items() if not k.startswith("ak")},
        collateral=vtpm.collateral,
    )
