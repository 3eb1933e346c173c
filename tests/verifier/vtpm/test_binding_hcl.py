"""verify_vtpm: an AK bound by an Azure HCL report (fake hardware, simulated SNP and TDX)."""

from __future__ import annotations

import hashlib
from dataclasses import replace

import pytest

from attestation.evidence import Evidence
from attestation.formats.hcl import HardwareReportType
from attestation.formats.tpm import Alg, RsaKey, Scheme, TpmPublic
from attestation.formats.tpm.constants import TPM_RH_ENDORSEMENT
from attestation.providers.vtpm import VtpmProvider
from attestation.providers.vtpm.profiles import LOCAL_AK_ATTRIBUTES
from attestation.simulated.vtpm import SoftwareTpm
from attestation.simulated.vtpm_cloud import (
    LocalCa,
    build_hcl_report,
    provision_azure,
    runtime_data,
)
from tests.helpers.azure_hardware import (
    MEASUREMENT,
    NOW,
    snp_certificates,
    snp_roots,
    snp_sign,
    td_platform,
    td_quote,
    td_roots,
    with_td_collateral,
)
from tests.helpers.fake_hardware import FakeHardware
from tests.verifier.vtpm.support import REPORT_DATA, certified, expect, verify
from verifier.errors import (
    BindingMismatch,
    CertificateChainInvalid,
    CouldNotCheck,
    EvidenceSignatureInvalid,
)
from verifier.vtpm import verify_vtpm

# -- the AK binding: an Azure HCL report --------------------------------------------------


def azure(hardware: FakeHardware, tpm: SoftwareTpm | None = None) -> Evidence:
    tpm = tpm or SoftwareTpm()
    provision_azure(tpm, hardware.sign)
    return VtpmProvider(tpm).get_evidence(REPORT_DATA)


def test_azure_hcl_binding(hardware: FakeHardware, ca: LocalCa) -> None:
    claims = verify(azure(hardware), ca, hardware={"sev-snp": hardware.verify})
    assert claims.details["binding"] == "azure-hcl"
    assert claims.details["vm_configuration"]["secure-boot"] is True
    assert claims.details["hardware"]["signer"] == "fake hardware key"
    assert claims.measurements["measurement"] == hardware.measurement.hex()
    assert "pcr0" in claims.measurements
    assert claims.tcb == {"fake": True}
    assert claims.debug is False
    assert claims.signer == "vTPM AK bound by an Azure HCL report to fake hardware key"


def test_debug_comes_from_the_hardware_report(ca: LocalCa) -> None:
    hardware = FakeHardware(debug=True)
    assert verify(azure(hardware), ca, hardware={"sev-snp": hardware.verify}).debug is True


def test_the_hcl_report_is_preferred_over_an_ak_certificate(
    hardware: FakeHardware, ca: LocalCa
) -> None:
    evidence = certified(azure(hardware), ca)
    assert (
        verify(evidence, ca, hardware={"sev-snp": hardware.verify}).details["binding"]
        == "azure-hcl"
    )
    assert hardware.calls == 1


def test_without_a_hardware_verifier_could_not_check(hardware: FakeHardware, ca: LocalCa) -> None:
    expect(CouldNotCheck, "vtpm.ak-binding.hardware-report", azure(hardware), ca, hardware={})


def test_a_tdx_hcl_report_without_its_td_quote_could_not_check(ca: LocalCa) -> None:
    tpm = SoftwareTpm()
    provision_azure(tpm, td_platform().tdreport, report_type=HardwareReportType.TDX)
    evidence = VtpmProvider(tpm).get_evidence(REPORT_DATA)
    assert "TD quote" in expect(CouldNotCheck, "vtpm.ak-binding.hardware-report", evidence, ca)


def test_a_tampered_hardware_report_fails_in_its_verifier(
    hardware: FakeHardware, ca: LocalCa
) -> None:
    evidence = azure(hardware)
    hcl = bytearray(evidence.extra["hcl_report"])
    hcl[32 + 0x90] ^= 1  # the MEASUREMENT inside the SNP-shaped report
    tampered = replace(evidence, extra={**evidence.extra, "hcl_report": bytes(hcl)})
    expect(
        EvidenceSignatureInvalid,
        "fake-hw.signature",
        tampered,
        ca,
        hardware={"sev-snp": hardware.verify},
    )


def test_runtime_data_not_bound_by_the_hardware_report_fails(
    hardware: FakeHardware, ca: LocalCa
) -> None:
    tpm = SoftwareTpm()
    provision_azure(tpm, lambda report_data: hardware.sign(bytes(64)))
    evidence = VtpmProvider(tpm).get_evidence(REPORT_DATA)
    expect(
        BindingMismatch,
        "vtpm.ak-binding.hcl-runtime-data",
        evidence,
        ca,
        hardware={"sev-snp": hardware.verify},
    )


def test_an_hcl_report_naming_another_ak_fails(hardware: FakeHardware, ca: LocalCa) -> None:
    evidence = azure(hardware)
    stranger = SoftwareTpm().create_primary(TPM_RH_ENDORSEMENT, _rsa_template())
    runtime = runtime_data(TpmPublic.from_bytes(stranger.public))
    report = hardware.sign(hashlib.sha256(runtime).digest() + bytes(32))
    hcl = build_hcl_report(report, runtime, HardwareReportType.SNP).to_bytes()
    tampered = replace(evidence, extra={**evidence.extra, "hcl_report": hcl})
    expect(
        BindingMismatch,
        "vtpm.ak-binding.hcl-ak",
        tampered,
        ca,
        hardware={"sev-snp": hardware.verify},
    )


def _rsa_template() -> bytes:
    return TpmPublic(
        Alg.SHA256, LOCAL_AK_ATTRIBUTES, RsaKey(2048, 0, b""), Scheme(Alg.RSASSA, Alg.SHA256)
    ).to_bytes()


# -- the AK binding: an Azure HCL report around a (simulated) SEV-SNP report -------------


@pytest.fixture(scope="module")
def azure_snp() -> Evidence:
    tpm = SoftwareTpm()
    provision_azure(tpm, snp_sign)
    return VtpmProvider(tpm, hardware_certificates=snp_certificates).get_evidence(REPORT_DATA)


def test_azure_with_a_simulated_snp_report(azure_snp: Evidence) -> None:
    assert set(azure_snp.certificates) == {"vcek"}
    claims = verify_vtpm(azure_snp, roots=snp_roots(), now=NOW)
    assert claims.signer == "vTPM AK bound by an Azure HCL report to VCEK (Milan)"
    assert claims.measurements["measurement"] == MEASUREMENT.hex()
    assert claims.debug is False
    assert claims.tcb["snp"] == 22
    names = [c.name for c in claims.checks]
    assert names.index("snp.signature") < names.index("vtpm.ak-binding.hcl-runtime-data")
    assert names[-3:] == [
        "vtpm.ak-binding.hardware-report",
        "vtpm.ak-binding.hcl-runtime-data",
        "vtpm.ak-binding.hcl-ak",
    ]


def test_azure_snp_needs_amd_roots(azure_snp: Evidence, ca: LocalCa) -> None:
    expect(CertificateChainInvalid, "snp.vcek-chain", azure_snp, ca)


def test_azure_snp_without_the_vcek_could_not_check(azure_snp: Evidence) -> None:
    with pytest.raises(CouldNotCheck) as info:
        verify_vtpm(replace(azure_snp, certificates={}), roots=snp_roots(), now=NOW)
    assert info.value.check == "snp.vcek"


def test_azure_snp_report_tampered_inside_the_hcl_report(azure_snp: Evidence) -> None:
    hcl = bytearray(azure_snp.extra["hcl_report"])
    hcl[32 + 0x90] ^= 1  # MEASUREMENT
    tampered = replace(azure_snp, extra={**azure_snp.extra, "hcl_report": bytes(hcl)})
    with pytest.raises(EvidenceSignatureInvalid) as info:
        verify_vtpm(tampered, roots=snp_roots(), now=NOW)
    assert info.value.check == "snp.signature"


# -- the AK binding: an Azure HCL report around a TDREPORT, verified through its TD quote --


@pytest.fixture(scope="module")
def azure_tdx() -> Evidence:
    tpm = SoftwareTpm()
    provision_azure(tpm, td_platform().tdreport, report_type=HardwareReportType.TDX)
    provider = VtpmProvider(tpm, td_quote=td_quote)
    return with_td_collateral(provider.get_evidence(REPORT_DATA))


def test_azure_tdx_verifies_through_the_td_quote(azure_tdx: Evidence) -> None:
    claims = verify_vtpm(azure_tdx, roots=td_roots(), now=NOW)
    assert claims.details["binding"] == "azure-hcl"
    assert claims.measurements["mrtd"] == td_platform().config.mrtd.hex()
    assert "pcr0" in claims.measurements
    assert claims.debug is False
    names = [c.name for c in claims.checks]
    assert "tdx.quote-signature" in names
    assert names[-3:] == [
        "vtpm.ak-binding.hardware-report",
        "vtpm.ak-binding.hcl-runtime-data",
        "vtpm.ak-binding.hcl-ak",
    ]


def test_azure_tdx_quote_for_other_report_data_fails(azure_tdx: Evidence) -> None:
    other = td_platform().quote(bytes(64))
    tampered = replace(azure_tdx, extra={**azure_tdx.extra, "td_quote": other})
    with pytest.raises(BindingMismatch) as info:
        verify_vtpm(tampered, roots=td_roots(), now=NOW)
    assert info.value.check == "tdx.report-data"


def test_azure_tdx_needs_intel_roots(azure_tdx: Evidence, ca: LocalCa) -> None:
    with pytest.raises(CertificateChainInvalid) as info:
        verify(azure_tdx, ca)
    assert info.value.check.startswith("tdx.")
