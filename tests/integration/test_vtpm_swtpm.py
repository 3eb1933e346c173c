"""vTPM end to end against a real swtpm: provider → evidence → verify_vtpm, and tampering.

One swtpm per module (fresh state in a temp dir, free ports on 127.0.0.1). Cloud
provisioning is emulated by writing the NV indices and persistent handles that Google Cloud
and Azure use, with a locally generated CA and a simulated SEV-SNP chip (or a stand-in).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from attestation.errors import MalformedEvidence
from attestation.evidence import Evidence
from attestation.formats.hcl import HardwareReportType
from attestation.formats.tpm import PcrSelection, PcrValues, QuoteAttest, TpmPublic
from attestation.formats.tpm.constants import TPM_RH_ENDORSEMENT
from attestation.providers.vtpm import AkSource, VtpmProvider
from attestation.providers.vtpm.tss import TssTpm
from attestation.simulated.vtpm_cloud import LocalCa, provision_azure, provision_gcp
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
from tests.helpers.swtpm import need_swtpm, running_swtpm
from verifier.claims import VerifiedEvidence
from verifier.errors import (
    BindingMismatch,
    CouldNotCheck,
    EvidenceSignatureInvalid,
)
from verifier.trust import TrustedRoots
from verifier.vtpm import verify_vtpm

pytestmark = pytest.mark.service

REPORT_DATA = hashlib.sha256(b"keyset").digest() + hashlib.sha256(b"nonce").digest()
PCRS = PcrSelection.of("sha256", range(24))


@pytest.fixture(scope="module")
def tpm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TssTpm]:
    need_swtpm()
    with running_swtpm(tmp_path_factory.mktemp("swtpm")) as tcti, TssTpm(tcti) as device:
        from tpm2_pytss import ESYS_TR

        device.esapi.pcr_event(ESYS_TR.PCR16, b"veritee test measurement")
        device.esapi.pcr_event(ESYS_TR.PCR23, b"another measurement")
        yield device


@pytest.fixture(scope="module")
def ca() -> LocalCa:
    return LocalCa.create("Test vTPM AK root", not_before=NOW - timedelta(days=1))


@pytest.fixture(scope="module")
def gcp_evidence(tpm: TssTpm, ca: LocalCa) -> Evidence:
    provision_gcp(tpm, ca, kind="ecc", not_before=NOW - timedelta(days=1))
    return evidence_from(tpm, ak=AkSource.GCP)


@pytest.fixture(scope="module")
def hardware() -> FakeHardware:
    return FakeHardware()


@pytest.fixture(scope="module")
def azure_evidence(tpm: TssTpm, hardware: FakeHardware) -> Evidence:
    provision_azure(tpm, hardware.sign)
    return evidence_from(tpm, ak=AkSource.AZURE)


def evidence_from(tpm: TssTpm, **options: Any) -> Evidence:
    """Evidence from a provider on ``tpm`` (closed afterwards, flushing its AK)."""
    provider = VtpmProvider(tpm, **options)
    try:
        return provider.get_evidence(REPORT_DATA)
    finally:
        provider.close()


def verify(evidence: Evidence, ca: LocalCa, **kwargs: Any) -> VerifiedEvidence:
    return verify_vtpm(evidence, roots=TrustedRoots((ca.certificate,)), now=NOW, **kwargs)


def expect(error: type[Exception], check: str, evidence: Evidence, ca: LocalCa, **kw: Any) -> None:
    with pytest.raises(error) as info:
        verify(evidence, ca, **kw)
    assert getattr(info.value, "check", None) == check


def flip(data: bytes, index: int) -> bytes:
    return data[:index] + bytes([data[index] ^ 0x01]) + data[index + 1 :]


# -- Google Cloud style: an AK certificate in NV -------------------------------------------


def test_gcp_evidence_verifies_with_the_quoted_pcrs(
    tpm: TssTpm, gcp_evidence: Evidence, ca: LocalCa
) -> None:
    claims = verify(gcp_evidence, ca)
    current = tpm.pcr_read(PCRS)
    assert claims.platform == "vtpm"
    assert claims.report_data == REPORT_DATA
    assert claims.measurements == {f"pcr{i}": v.hex() for _, i, v in current.items()}
    assert claims.measurements["pcr16"] != "00" * 32
    assert claims.debug is False
    assert claims.details["binding"] == "ak-certificate"
    assert [c.name for c in claims.checks] == [
        "vtpm.ak-attributes",
        "vtpm.quote-signature",
        "vtpm.nonce",
        "vtpm.pcr-digest",
        "vtpm.ak-binding.ak-certificate",
        "vtpm.ak-binding.ak-certificate-key",
    ]
    assert gcp_evidence.provider == "vtpm/gcp"
    assert QuoteAttest.from_bytes(gcp_evidence.report).extra_data == REPORT_DATA


def test_evidence_verifies_after_a_json_round_trip(gcp_evidence: Evidence, ca: LocalCa) -> None:
    assert verify(Evidence.from_json(gcp_evidence.to_json()), ca) is not None


def test_the_ak_is_recreated_from_its_template_with_the_tpm_s_name(
    tpm: TssTpm, gcp_evidence: Evidence
) -> None:
    template = tpm.nv_read(0x01C10003)
    assert template is not None
    key = tpm.create_primary(TPM_RH_ENDORSEMENT, template)
    try:
        from tpm2_pytss import ESYS_TR

        _, name, _ = tpm.esapi.read_public(ESYS_TR(key.handle))
        assert key.public == gcp_evidence.extra["ak_public"]  # deterministic primary key
        assert bytes(name.marshal())[2:] == TpmPublic.from_bytes(key.public).name()
    finally:
        tpm.flush(key)


def test_every_quote_byte_is_covered_by_the_signature(gcp_evidence: Evidence, ca: LocalCa) -> None:
    for i in range(len(gcp_evidence.report)):
        tampered = replace(gcp_evidence, report=flip(gcp_evidence.report, i))
        with pytest.raises(EvidenceSignatureInvalid) as info:
            verify(tampered, ca)
        assert info.value.check == "vtpm.quote-signature", i


def test_every_signature_byte_matters(gcp_evidence: Evidence, ca: LocalCa) -> None:
    sig = gcp_evidence.extra["signature"]
    for i in range(len(sig)):
        tampered = replace(gcp_evidence, extra={**gcp_evidence.extra, "signature": flip(sig, i)})
        with pytest.raises((EvidenceSignatureInvalid, MalformedEvidence)) as info:
            verify(tampered, ca)
        # ECDSA-P256: sigAlg, hash, then 2+32 bytes of R and 2+32 of S; value bytes must not
        # fail as malformed but as a bad signature.
        if 6 <= i < 38 or 40 <= i < 72:
            assert isinstance(info.value, EvidenceSignatureInvalid), i
            assert info.value.check == "vtpm.quote-signature"


def test_every_pcr_value_byte_matters(gcp_evidence: Evidence, ca: LocalCa) -> None:
    raw = gcp_evidence.extra["pcrs"]
    values_start = len(PCRS.to_bytes()) + 4
    for i in range(len(raw)):
        tampered = replace(gcp_evidence, extra={**gcp_evidence.extra, "pcrs": flip(raw, i)})
        with pytest.raises((BindingMismatch, MalformedEvidence)) as info:
            verify(tampered, ca)
        if i >= values_start and (i - values_start) % 34 >= 2:  # a digest byte, not a size
            assert isinstance(info.value, BindingMismatch), i
            assert info.value.check == "vtpm.pcr-digest"


def test_wrong_report_data_fails_the_nonce_check(gcp_evidence: Evidence, ca: LocalCa) -> None:
    other = replace(gcp_evidence, report_data=flip(REPORT_DATA, 63))
    expect(BindingMismatch, "vtpm.nonce", other, ca)


def test_pcr_values_of_another_moment_fail(
    tpm: TssTpm, gcp_evidence: Evidence, ca: LocalCa
) -> None:
    from tpm2_pytss import ESYS_TR

    tpm.esapi.pcr_event(ESYS_TR.PCR16, b"later")
    later = tpm.pcr_read(PCRS)
    assert later.to_bytes() != gcp_evidence.extra["pcrs"]
    tampered = replace(gcp_evidence, extra={**gcp_evidence.extra, "pcrs": later.to_bytes()})
    expect(BindingMismatch, "vtpm.pcr-digest", tampered, ca)


def test_gcp_rsa_ak_verifies(tpm: TssTpm, ca: LocalCa) -> None:
    provision_gcp(tpm, ca, kind="rsa", not_before=NOW - timedelta(days=1))
    # With both templates present the ECC one wins; drop it to exercise RSA.
    tpm.esapi.nv_undefine_space(tpm.esapi.tr_from_tpmpublic(0x01C10003), auth_handle=_owner())
    evidence = evidence_from(tpm, ak=AkSource.GCP)
    assert TpmPublic.from_bytes(evidence.extra["ak_public"]).type == 0x0001
    claims = verify(evidence, ca)
    assert "rsassa-sha256" in claims.checks[1].detail


def _owner() -> object:
    from tpm2_pytss import ESYS_TR

    return ESYS_TR.OWNER


# -- no binding: a plain TPM ----------------------------------------------------------------


def test_a_local_ak_can_never_be_verified(tpm: TssTpm, ca: LocalCa) -> None:
    evidence = evidence_from(tpm, ak=AkSource.LOCAL)
    assert evidence.provider == "vtpm/local" and "ak" not in evidence.certificates
    expect(CouldNotCheck, "vtpm.ak-binding", evidence, ca)


# -- Azure style: an HCL report in NV binding the AK to a hardware report ------------------


def test_azure_evidence_verifies_through_the_hardware_report(
    azure_evidence: Evidence, hardware: FakeHardware, ca: LocalCa
) -> None:
    assert azure_evidence.provider == "vtpm/azure"
    assert "hcl_report" in azure_evidence.extra
    claims = verify(azure_evidence, ca, hardware={"sev-snp": hardware.verify})
    assert claims.details["binding"] == "azure-hcl"
    assert claims.measurements["measurement"] == hardware.measurement.hex()
    assert PcrValues.from_bytes(azure_evidence.extra["pcrs"]).items()[0][1] == 0
    names = [c.name for c in claims.checks]
    assert names[-4:] == [
        "fake-hw.signature",
        "vtpm.ak-binding.hardware-report",
        "vtpm.ak-binding.hcl-runtime-data",
        "vtpm.ak-binding.hcl-ak",
    ]


def test_azure_without_a_hardware_verifier_could_not_check(
    azure_evidence: Evidence, ca: LocalCa
) -> None:
    expect(CouldNotCheck, "vtpm.ak-binding.hardware-report", azure_evidence, ca, hardware={})


def test_auto_prefers_azure_when_both_clouds_are_provisioned(
    tpm: TssTpm, azure_evidence: Evidence, gcp_evidence: Evidence
) -> None:
    assert evidence_from(tpm).provider == "vtpm/azure"


def test_azure_with_a_simulated_snp_report(tpm: TssTpm) -> None:
    provision_azure(tpm, snp_sign)
    evidence = evidence_from(tpm, ak=AkSource.AZURE, hardware_certificates=snp_certificates)
    claims = verify_vtpm(evidence, roots=snp_roots(), now=NOW)  # the shipped SNP verifier
    assert claims.signer == "vTPM AK bound by an Azure HCL report to VCEK (Milan)"
    assert claims.measurements["measurement"] == MEASUREMENT.hex()
    assert claims.measurements["pcr16"] != "00" * 32
    assert claims.report_data == REPORT_DATA
    with pytest.raises(BindingMismatch) as info:
        verify_vtpm(replace(evidence, report_data=bytes(64)), roots=snp_roots(), now=NOW)
    assert info.value.check == "vtpm.nonce"


def test_azure_tdx_through_the_td_quote(tpm: TssTpm) -> None:
    provision_azure(tpm, td_platform().tdreport, report_type=HardwareReportType.TDX)
    evidence = with_td_collateral(evidence_from(tpm, ak=AkSource.AZURE, td_quote=td_quote))
    claims = verify_vtpm(evidence, roots=td_roots(), now=NOW)  # the shipped TDX verifier
    assert claims.measurements["mrtd"] == td_platform().config.mrtd.hex()
    assert claims.measurements["pcr23"] != "00" * 32
    assert claims.details["binding"] == "azure-hcl"
