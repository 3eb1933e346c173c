"""verify_vtpm: an AK bound by nothing, or by a certificate chaining to a trusted root."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from attestation.evidence import Evidence
from attestation.providers.vtpm import VtpmProvider
from attestation.simulated.vtpm import SoftwareTpm
from attestation.simulated.vtpm_cloud import LocalCa
from tests.helpers.azure_hardware import NOW
from tests.verifier.vtpm.support import REPORT_DATA, certified, expect, verify
from verifier.errors import BindingMismatch, CertificateChainInvalid, CouldNotCheck
from verifier.trust import TrustedRoots


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
