"""verify_vtpm on SoftwareTpm evidence: claims, bad input, and the quote's own checks."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest

from attestation.errors import MalformedEvidence
from attestation.evidence import Evidence
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
from attestation.providers.vtpm import AkSource, VtpmProvider
from attestation.providers.vtpm.profiles import LOCAL_AK_ATTRIBUTES
from attestation.simulated.vtpm import SoftwareTpm
from attestation.simulated.vtpm_cloud import LocalCa, provision_gcp
from tests.helpers.azure_hardware import NOW
from tests.verifier.vtpm.support import PCRS, REPORT_DATA, certified, expect, quote_with, verify
from verifier.errors import BadInput, BindingMismatch, EvidenceSignatureInvalid
from verifier.vtpm import HARDWARE_VERIFIERS, pcr_measurements

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
