"""Why the attestation key can be trusted: its binding to hardware, or to a cloud's CA.

- **Azure HCL report** (``extra["hcl_report"]``): the embedded SNP report (for TDX: the TD
  quote made from the embedded TDREPORT) verifies with the hardware verifier, its
  REPORT_DATA starts with H(runtime data), and the runtime data's ``HCLAkPub`` is the
  quoting AK. Debug, hardware measurements and TCB come from there.
- **AK certificate** (``certificates["ak"]``, e.g. Google Cloud): the certificate chains to
  a trusted root at ``now`` and certifies the quoting AK. The cloud vouches for the VM;
  nothing here says whether the guest is debuggable.
- **Neither**: :class:`CouldNotCheck`. An AK nobody vouches for proves nothing about where
  the quote came from, so it is never "verified".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cryptography import x509

from attestation.errors import MalformedEvidence
from attestation.evidence import Evidence
from attestation.formats.hcl import HclReport
from attestation.formats.pki import load_der_certificate
from attestation.formats.tpm import TpmPublic
from attestation.formats.tpm.keys import public_key, same_public_key
from verifier.claims import Check
from verifier.collateral import CollateralSource
from verifier.errors import BadInput, BindingMismatch, CouldNotCheck
from verifier.trust import TrustedRoots, load_certificates
from verifier.vtpm.chain import verify_path
from verifier.vtpm.hardware import HardwareVerifier, hardware_evidence

BINDING = "vtpm.ak-binding"


@dataclass(frozen=True)
class Binding:
    """What the AK's binding contributes to the verified claims."""

    kind: str
    signer: str
    debug: bool
    checks: tuple[Check, ...]
    measurements: Mapping[str, str] = field(default_factory=dict)
    tcb: Mapping[str, Any] = field(default_factory=dict)
    details: Mapping[str, Any] = field(default_factory=dict)


def bind_ak(
    evidence: Evidence,
    ak: TpmPublic,
    *,
    roots: TrustedRoots,
    now: datetime,
    collateral: CollateralSource | None,
    hardware: Mapping[str, HardwareVerifier],
) -> Binding:
    if "hcl_report" in evidence.extra:
        hcl = HclReport.from_bytes(evidence.extra["hcl_report"])
        return _bind_hcl(
            evidence, hcl, ak, roots=roots, now=now, collateral=collateral, hardware=hardware
        )
    if "ak" in evidence.certificates:
        return _bind_certificate(evidence, ak, roots, now)
    raise CouldNotCheck(
        BINDING, "nothing binds the AK to hardware or to a cloud CA (no HCL report, "
        "no AK certificate): the quote could come from any TPM",
    )  # fmt: skip


def _bind_hcl(
    evidence: Evidence,
    hcl: HclReport,
    ak: TpmPublic,
    *,
    roots: TrustedRoots,
    now: datetime,
    collateral: CollateralSource | None,
    hardware: Mapping[str, HardwareVerifier],
) -> Binding:
    name = f"{BINDING}.hardware-report"
    verify = hardware.get(hcl.platform)
    if verify is None:
        raise CouldNotCheck(name, f"no {hcl.platform} verifier is available to check the report")
    hw_evidence = hardware_evidence(hcl, evidence, check=name)
    hw = verify(hw_evidence, roots=roots, now=now, collateral=collateral)
    what = "TD quote made from the embedded TDREPORT" if hcl.platform == "tdx" else "report"
    checks = [Check(name, f"the {hcl.platform} {what} verifies ({hw.signer})")]

    name = f"{BINDING}.hcl-runtime-data"
    digest = hcl.runtime_data_digest()
    if hw.report_data[: len(digest)] != digest:
        raise BindingMismatch(
            name, f"REPORT_DATA starts {hw.report_data[: len(digest)].hex()}, but "
            f"{hcl.hash_name}(runtime data) is {digest.hex()}",
        )  # fmt: skip
    checks.append(Check(name, f"REPORT_DATA starts with {hcl.hash_name}(HCL runtime data)"))

    name = f"{BINDING}.hcl-ak"
    if not same_public_key(hcl.ak_jwk().public_key(), public_key(ak)):
        raise BindingMismatch(name, "the runtime data's HCLAkPub is not the quoting AK")
    checks.append(Check(name, "the runtime data's HCLAkPub is the quoting AK"))
    vm_config = hcl.runtime_claims().get("vm-configuration")
    return Binding(
        kind="azure-hcl",
        signer=f"vTPM AK bound by an Azure HCL report to {hw.signer}",
        debug=hw.debug,
        checks=(*hw.checks, *checks),
        measurements=hw.measurements,
        tcb=hw.tcb,
        details={"hardware": hw.to_dict(), "vm_configuration": vm_config},
    )


def _bind_certificate(
    evidence: Evidence, ak: TpmPublic, roots: TrustedRoots, now: datetime
) -> Binding:
    name = f"{BINDING}.ak-certificate"
    leaf = _certificate(evidence.certificates["ak"], "certificates.ak")
    others = [
        cert
        for role, der in sorted(evidence.certificates.items())
        if role != "ak"
        for cert in load_certificates(der, f"certificates.{role}")
    ]
    anchor = verify_path(leaf, intermediates=others, roots=roots, now=now, check=name)
    checks = [Check(name, f"the AK certificate chains to {anchor.subject.rfc4514_string()}")]
    name = f"{BINDING}.ak-certificate-key"
    if not same_public_key(public_key(ak), leaf.public_key()):
        raise BindingMismatch(name, "the AK certificate certifies another key than the AK")
    checks.append(Check(name, "the AK certificate certifies the quoting AK"))
    return Binding(
        kind="ak-certificate",
        signer=f"vTPM AK certified by {leaf.issuer.rfc4514_string()}",
        debug=False,
        checks=tuple(checks),
        details={
            "ak_certificate": {
                "subject": leaf.subject.rfc4514_string(),
                "issuer": leaf.issuer.rfc4514_string(),
                "serial": format(leaf.serial_number, "x"),
            },
            "debug": "unknown: an AK certificate says nothing about the guest's debug state",
        },
    )


def _certificate(der: bytes, role: str) -> x509.Certificate:
    try:
        return load_der_certificate(der, role)
    except MalformedEvidence as exc:
        raise BadInput(role, f"not a DER certificate: {exc}") from None
