"""verify_vtpm on evidence from the in-memory SoftwareTpm: every check, passing and failing."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from attestation.errors import MalformedEvidence
from attestation.evidence import Evidence
from attestation.formats.hcl import HardwareReportType
from attestation.formats.tpm import (
    Alg,
    EccCurve,
    EccKey,
    ObjectAttr,
    PcrSelection,
    RsaKey,
    Scheme,
    TpmPublic,
    TpmSignature,
)
from attestation.formats.tpm.constants import TPM_RH_ENDORSEMENT
from attestation.providers.vtpm import AkSource, VtpmProvider
from attestation.providers.vtpm.profiles import LOCAL_AK_ATTRIBUTES
from attestation.simulated.vtpm import SoftwareTpm
from attestation.simulated.vtpm_cloud import (
    LocalCa,
    build_hcl_report,
    provision_azure,
    provision_gcp,
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
from verifier.claims import VerifiedEvidence
from verifier.errors import (
    BadInput,
    BindingMismatch,
    CertificateChainInvalid,
    CouldNotCheck,
    EvidenceSignatureInvalid,
)
from verifier.trust import TrustedRoots
from verifier.vtpm import HARDWARE_VERIFIERS, pcr_measurements, verify_vtpm

REPORT_DATA = hashlib.sha512(b"keyset and nonce").digest()
PCRS = PcrSelection.of("sha256", range(24))


@pytest.fixture(scope="module")
def ca() -> LocalCa:
    return LocalCa.create("test AK CA", not_before=NOW - timedelta(days=30))


@pytest.fixture(scope="module")
def gcp(ca: LocalCa) -> tuple[SoftwareTpm, Evidence]:
    tpm = SoftwareTpm()
    tpm.extend(0, b"firmware")
    provision_gcp(tpm, ca, kind="ecc", not_before=NOW - timedelta(days=1))
    return tpm, VtpmProvider(tpm).get_evidence(REPORT_DATA)


def verify(evidence: Evidence, ca: LocalCa, **kwargs: Any) -> VerifiedEvidence:
    kwargs.setdefault("roots", TrustedRoots((ca.certificate,)))
    kwargs.setdefault("now", NOW)
    return verify_vtpm(evidence, **kwargs)


def quote_with(tpm: SoftwareTpm, template: TpmPublic, scheme: Scheme) -> Evidence:
    """Evidence quoted by a key made from ``template``, with an explicit signing scheme."""
    key = tpm.create_primary(TPM_RH_ENDORSEMENT, template.to_bytes())
    attest, signature = tpm.quote(key, REPORT_DATA, PCRS, scheme)
    extra = {"signature": signature, "ak_public": key.public, "pcrs": tpm.pcr_read(PCRS).to_bytes()}
    return Evidence("vtpm", attest, REPORT_DATA, "test", extra=extra)


def certified(evidence: Evidence, ca: LocalCa) -> Evidence:
    ak = TpmPublic.from_bytes(evidence.extra["ak_public"])
    cert = ca.issue_ak_certificate(ak, not_before=NOW - timedelta(days=1))
    return replace(evidence, certificates={"ak": cert})


def expect(error: type[Exception], check: str, evidence: Evidence, ca: LocalCa, **kw: Any) -> str:
    with pytest.raises(error) as info:
        verify(evidence, ca, **kw)
    assert getattr(info.value, "check", None) == check
    return str(info.value)


# -- what passes ------------------------------------------------------------------------


def test_gcp_style_evidence_verifies(gcp: tuple[SoftwareTpm, Evidence], ca: LocalCa) -> None:
    tpm, evidence = gcp
    claims = verify(evidence, ca)
    assert claims.report_data == REPORT_DATA
    assert claims.measurements["pcr0"] == tpm.pcrs[Alg.SHA256][0].hex()
    assert len(claims.measurements) == 24
    assert claims.debug is False and "unknown" in claims.details["debug"]
    assert claims.signer == "vTPM AK certified by CN=test AK CA"
    assert claims.details["qualifying_data"] == "report_data"
    assert claims.details["ak_certificate"]["issuer"] == "CN=test AK CA"
    assert claims.checked_at == NOW


@pytest.mark.parametrize(
    ("key", "scheme", "signed_with"),
    [
        (RsaKey(2048, 0, b""), Scheme(), Scheme(Alg.RSAPSS, Alg.SHA256)),
        (RsaKey(2048, 0, b""), Scheme(Alg.RSASSA, Alg.SHA384), Scheme()),
        (EccKey(EccCurve.NIST_P384, b"", b""), Scheme(Alg.ECDSA, Alg.SHA384), Scheme()),
    ],
    ids=["rsapss", "rsassa-sha384", "ecdsa-p384"],
)
def test_other_ak_kinds_verify(key: Any, scheme: Scheme, signed_with: Scheme, ca: LocalCa) -> None:
    template = TpmPublic(Alg.SHA256, LOCAL_AK_ATTRIBUTES, key, scheme)
    claims = verify(certified(quote_with(SoftwareTpm(), template, signed_with), ca), ca)
    assert claims.checks[1].name == "vtpm.quote-signature"


def test_sha256_of_the_report_data_is_accepted_as_qualifying_data(ca: LocalCa) -> None:
    tpm = SoftwareTpm(max_qualifying_data=34)
    provision_gcp(tpm, ca, kind="ecc", not_before=NOW - timedelta(days=1))
    claims = verify(VtpmProvider(tpm).get_evidence(REPORT_DATA), ca)
    assert claims.details["qualifying_data"] == "sha256(report_data)"
    assert claims.report_data == REPORT_DATA


def test_measurement_names_per_bank() -> None:
    tpm = SoftwareTpm(banks=("sha256", "sha384"))
    selection = PcrSelection(
        PcrSelection.of("sha384", [1]).banks + PcrSelection.of("sha256", [0]).banks
    )
    assert set(pcr_measurements(tpm.pcr_read(selection))) == {"sha384:pcr1", "pcr0"}


def test_snp_and_tdx_verifiers_are_wired_in() -> None:
    assert set(HARDWARE_VERIFIERS) == {"sev-snp", "tdx"}


# -- bad input --------------------------------------------------------------------------


def test_bad_input(gcp: tuple[SoftwareTpm, Evidence], ca: LocalCa) -> None:
    _, evidence = gcp
    with pytest.raises(BadInput, match="expected vtpm"):
        verify(replace(evidence, platform="nitro"), ca)
    with pytest.raises(BadInput, match="timezone"):
        verify(evidence, ca, now=datetime(2026, 6, 1))  # naive
    with pytest.raises(BadInput, match="missing extra pcrs"):
        verify(
            replace(evidence, extra={k: evidence.extra[k] for k in ("signature", "ak_public")}), ca
        )
    with pytest.raises(MalformedEvidence):
        verify(replace(evidence, extra={**evidence.extra, "ak_public": b"\x00\x23"}), ca)
    with pytest.raises(BadInput, match="DER"):
        verify(replace(evidence, certificates={"ak": b"not a certificate"}), ca)


# -- the quote --------------------------------------------------------------------------


def test_an_unrestricted_key_is_refused(gcp: tuple[SoftwareTpm, Evidence], ca: LocalCa) -> None:
    _, evidence = gcp
    ak = TpmPublic.from_bytes(evidence.extra["ak_public"])
    loose = replace(ak, attributes=ak.attributes & ~ObjectAttr.RESTRICTED)
    tampered = replace(evidence, extra={**evidence.extra, "ak_public": loose.to_bytes()})
    expect(EvidenceSignatureInvalid, "vtpm.ak-attributes", tampered, ca)


def test_a_quote_signed_by_another_ak_fails(gcp: tuple[SoftwareTpm, Evidence], ca: LocalCa) -> None:
    _, evidence = gcp
    other = VtpmProvider(SoftwareTpm(), ak=AkSource.LOCAL).get_evidence(REPORT_DATA)
    tampered = replace(evidence, extra={**evidence.extra, "signature": other.extra["signature"]})
    expect(EvidenceSignatureInvalid, "vtpm.quote-signature", tampered, ca)


def test_a_scheme_other_than_the_ak_s_fails(ca: LocalCa) -> None:
    template = TpmPublic(
        Alg.SHA256, LOCAL_AK_ATTRIBUTES, EccKey(3, b"", b""), Scheme(Alg.ECDSA, Alg.SHA256)
    )
    evidence = quote_with(SoftwareTpm(), template, Scheme(Alg.ECDSA, Alg.SHA384))
    message = expect(EvidenceSignatureInvalid, "vtpm.quote-signature", certified(evidence, ca), ca)
    assert "bound to ecdsa-sha256" in message


def test_sha1_signatures_are_never_accepted(ca: LocalCa) -> None:
    template = TpmPublic(Alg.SHA256, LOCAL_AK_ATTRIBUTES, EccKey(3, b"", b""))
    evidence = quote_with(SoftwareTpm(), template, Scheme(Alg.ECDSA, Alg.SHA256))
    sha1 = TpmSignature(Alg.ECDSA, Alg.SHA1, r=b"\x01" * 32, s=b"\x01" * 32).to_bytes()
    evidence = replace(evidence, extra={**evidence.extra, "signature": sha1})
    assert "sha1 signatures" in expect(
        EvidenceSignatureInvalid, "vtpm.quote-signature", evidence, ca
    )


def test_an_rsa_signature_from_an_ecc_key_fails(
    gcp: tuple[SoftwareTpm, Evidence], ca: LocalCa
) -> None:
    _, evidence = gcp
    ak = TpmPublic.from_bytes(evidence.extra["ak_public"])
    open_scheme = replace(ak, scheme=Scheme())
    rsa_sig = TpmSignature(Alg.RSASSA, Alg.SHA256, rsa=bytes(256)).to_bytes()
    tampered = replace(
        evidence,
        extra={**evidence.extra, "ak_public": open_scheme.to_bytes(), "signature": rsa_sig},
    )
    assert "cannot come from" in expect(
        EvidenceSignatureInvalid, "vtpm.quote-signature", tampered, ca
    )


def test_other_report_data_fails_the_nonce(gcp: tuple[SoftwareTpm, Evidence], ca: LocalCa) -> None:
    _, evidence = gcp
    expect(BindingMismatch, "vtpm.nonce", replace(evidence, report_data=bytes(64)), ca)


def test_a_32_byte_qualifying_data_must_be_the_sha256(ca: LocalCa) -> None:
    tpm = SoftwareTpm(max_qualifying_data=34)
    provision_gcp(tpm, ca, kind="ecc", not_before=NOW - timedelta(days=1))
    evidence = VtpmProvider(tpm).get_evidence(REPORT_DATA)
    expect(BindingMismatch, "vtpm.nonce", replace(evidence, report_data=bytes(64)), ca)


def test_pcr_values_must_be_the_quoted_ones(gcp: tuple[SoftwareTpm, Evidence], ca: LocalCa) -> None:
    tpm, evidence = gcp
    fewer = tpm.pcr_read(PcrSelection.of("sha256", range(8))).to_bytes()
    expect(
        BindingMismatch,
        "vtpm.pcr-digest",
        replace(evidence, extra={**evidence.extra, "pcrs": fewer}),
        ca,
    )
    changed = SoftwareTpm().pcr_read(PCRS).to_bytes()  # all zero: PCR 0 was extended
    expect(
        BindingMismatch,
        "vtpm.pcr-digest",
        replace(evidence, extra={**evidence.extra, "pcrs": changed}),
        ca,
    )


# -- the AK binding: nothing, or a certificate ------------------------------------------


def test_an_ak_without_binding_could_not_be_checked(ca: LocalCa) -> None:
    evidence = VtpmProvider(SoftwareTpm()).get_evidence(REPORT_DATA)
    assert "any TPM" in expect(CouldNotCheck, "vtpm.ak-binding", evidence, ca)


def test_no_roots_could_not_check(gcp: tuple[SoftwareTpm, Evidence], ca: LocalCa) -> None:
    _, evidence = gcp
    expect(CouldNotCheck, "vtpm.ak-binding.ak-certificate", evidence, ca, roots=TrustedRoots())


def test_a_certificate_from_another_ca_fails(
    gcp: tuple[SoftwareTpm, Evidence], ca: LocalCa
) -> None:
    _, evidence = gcp
    stranger = LocalCa.create("stranger", not_before=NOW - timedelta(days=1))
    roots = TrustedRoots((stranger.certificate,))
    message = expect(
        CertificateChainInvalid, "vtpm.ak-binding.ak-certificate", evidence, ca, roots=roots
    )
    assert "does not chain" in message


@pytest.mark.parametrize("when", [NOW - timedelta(days=2), NOW + timedelta(days=400)])
def test_the_certificate_must_be_valid_now(
    gcp: tuple[SoftwareTpm, Evidence], ca: LocalCa, when: datetime
) -> None:
    _, evidence = gcp
    message = expect(
        CertificateChainInvalid, "vtpm.ak-binding.ak-certificate", evidence, ca, now=when
    )
    assert "is valid from" in message


def test_a_certificate_for_another_key_fails(
    gcp: tuple[SoftwareTpm, Evidence], ca: LocalCa
) -> None:
    _, evidence = gcp
    other = VtpmProvider(SoftwareTpm()).get_evidence(REPORT_DATA)
    cert = certified(other, ca).certificates["ak"]
    tampered = replace(evidence, certificates={"ak": cert})
    expect(BindingMismatch, "vtpm.ak-binding.ak-certificate-key", tampered, ca)


def intermediate(root: LocalCa, *, is_ca: bool = True) -> LocalCa:
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test intermediate")]))
        .issuer_name(root.certificate.subject)
        .public_key(key.public_key())
        .serial_number(7)
        .not_valid_before(NOW - timedelta(days=10))
        .not_valid_after(NOW + timedelta(days=10))
        .add_extension(x509.BasicConstraints(ca=is_ca, path_length=None), critical=True)
        .sign(root.key, hashes.SHA256())
    )
    return LocalCa(key, cert)


def test_a_chain_through_an_intermediate(gcp: tuple[SoftwareTpm, Evidence], ca: LocalCa) -> None:
    _, evidence = gcp
    middle = intermediate(ca)
    leaf = certified(evidence, middle).certificates["ak"]
    via_evidence = replace(evidence, certificates={"ak": leaf, "ak-intermediate": middle.der})
    assert verify(via_evidence, ca).checks[4].detail.endswith("CN=test AK CA")
    via_roots = TrustedRoots((ca.certificate,), (middle.certificate,))
    assert verify(replace(evidence, certificates={"ak": leaf}), ca, roots=via_roots)
    expect(
        CertificateChainInvalid,
        "vtpm.ak-binding.ak-certificate",
        replace(evidence, certificates={"ak": leaf}),
        ca,
    )
    not_ca = intermediate(ca, is_ca=False)
    leaf = certified(evidence, not_ca).certificates["ak"]
    expect(
        CertificateChainInvalid,
        "vtpm.ak-binding.ak-certificate",
        replace(evidence, certificates={"ak": leaf, "ak-intermediate": not_ca.der}),
        ca,
    )


# -- the AK binding: an Azure HCL report --------------------------------------------------


@pytest.fixture
def hardware() -> FakeHardware:
    return FakeHardware()


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
