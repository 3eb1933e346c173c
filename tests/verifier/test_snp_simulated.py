"""verify_snp on simulated evidence: trusted only with the simulator's roots."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding

from attestation.evidence import Evidence
from attestation.formats.snp import SigningKey, SnpReport
from attestation.formats.snp_tcb import PRODUCTS, Product, TcbVersion
from attestation.simulated.amd_ca import PSS
from attestation.simulated.snp import SimulatedSnpProvider
from tests.helpers.snp import simulated_state_dir
from verifier.claims import VerifiedEvidence
from verifier.errors import (
    BindingMismatch,
    CertificateChainInvalid,
    CouldNotCheck,
    EvidenceSignatureInvalid,
    TcbMismatch,
)
from verifier.snp import verify_snp
from verifier.trust import TrustedRoots

REPORT_DATA = bytes(range(64))
NOW = datetime.now(UTC)


def provider(**options: object) -> SimulatedSnpProvider:
    return SimulatedSnpProvider(simulated_state_dir(), **options)  # type: ignore[arg-type]


def sim_roots() -> TrustedRoots:
    return TrustedRoots.from_paths([simulated_state_dir()])


def verify(evidence: Evidence, roots: TrustedRoots | None = None) -> VerifiedEvidence:
    return verify_snp(evidence, roots=sim_roots() if roots is None else roots, now=NOW)


@pytest.mark.parametrize("product", PRODUCTS)
@pytest.mark.parametrize("version", [2, 3, 5])
def test_round_trip(product: Product, version: int) -> None:
    measurement = bytes.fromhex("5a" * 48)
    sim = provider(product=product, version=version, measurement=measurement)
    claims = verify(sim.get_evidence(REPORT_DATA))
    assert claims.report_data == REPORT_DATA
    assert claims.measurements == {"measurement": "5a" * 48}
    assert claims.signer == f"VCEK ({product.capitalize()})"
    assert dict(claims.tcb) == sim.tcb.parts()
    assert ("fmc" in claims.tcb) == (product == "turin")
    assert claims.debug is False
    assert claims.details["version"] == version
    assert claims.details["chip_id"] == sim.chip_id.hex()


def test_roots_dir_holds_exactly_the_public_roots() -> None:
    provider()  # make sure the state exists
    roots = sim_roots()
    assert [c.subject.rfc4514_string() for c in roots.anchors] == [
        "CN=ARK-Simulated,O=veritee simulated AMD,OU=Engineering"
    ]
    names = {c.subject.rfc4514_string().split(",")[0] for c in roots.intermediates}
    assert "CN=SEV-Simulated" in names <= {"CN=SEV-Simulated", "CN=SEV-VLEK-Simulated"}


@pytest.mark.parametrize("signer", ["vcek", "vlek"])
def test_simulated_evidence_fails_against_amd_roots(signer: str) -> None:
    evidence = provider(product="genoa", signer=signer).get_evidence(REPORT_DATA)
    suffix = "-vlek" if signer == "vlek" else ""
    amd = TrustedRoots.shipped(*(f"amd-{p}{suffix}" for p in ("milan", "genoa", "turin")))
    with pytest.raises(CertificateChainInvalid) as caught:
        verify(evidence, amd)
    assert caught.value.check == f"snp.{signer}-chain"


def test_json_round_trip_keeps_it_verifiable() -> None:
    evidence = provider(product="turin").get_evidence(REPORT_DATA)
    assert verify(Evidence.from_json(evidence.to_json())).signer == "VCEK (Turin)"


def test_debug_policy_is_reported_not_judged() -> None:
    claims = verify(provider(policy=0xB0000).get_evidence(REPORT_DATA))
    assert claims.debug is True
    assert claims.details["policy"] == 0xB0000


def test_vcek_for_another_tcb_is_a_tcb_mismatch() -> None:
    older = TcbVersion("milan", bootloader=1, tee=0, snp=1, microcode=1)
    evidence = provider(tcb=older).get_evidence(REPORT_DATA)
    newer_vcek = provider().certificate_der  # same chip key, default (newer) TCB
    with pytest.raises(TcbMismatch) as caught:
        verify(replace(evidence, certificates={"vcek": newer_vcek}))
    assert caught.value.check == "snp.tcb"
    assert "bootloader=1" in caught.value.reason


def test_vcek_for_another_chip_is_a_chip_id_mismatch() -> None:
    evidence = provider(chip_id=b"\x01" * 64).get_evidence(REPORT_DATA)
    other = provider(chip_id=b"\x02" * 64).certificate_der
    with pytest.raises(BindingMismatch) as caught:
        verify(replace(evidence, certificates={"vcek": other}))
    assert caught.value.check == "snp.chip-id"


def test_turin_compares_the_eight_byte_hwid() -> None:
    chip = b"\x07" * 8 + bytes(56)
    evidence = provider(product="turin", chip_id=chip).get_evidence(REPORT_DATA)
    check = next(c for c in verify(evidence).checks if c.name == "snp.chip-id")
    assert check.detail.endswith("(0707070707070707)")
    other = provider(product="turin", chip_id=b"\x08" * 8 + bytes(56)).certificate_der
    with pytest.raises(BindingMismatch):
        verify(replace(evidence, certificates={"vcek": other}))


def test_masked_chip_id_is_accepted_and_said() -> None:
    claims = verify(provider(mask_chip_id=True).get_evidence(REPORT_DATA))
    check = next(c for c in claims.checks if c.name == "snp.chip-id")
    assert "masked" in check.detail
    assert claims.details["mask_chip_key"] is True


def test_cpuid_product_must_match_the_certificate() -> None:
    genoa = provider(product="genoa")
    same_tcb = TcbVersion.from_raw(genoa.tcb.raw(), "milan")
    milan_vcek = provider(product="milan", tcb=same_tcb).certificate_der
    evidence = genoa.get_evidence(REPORT_DATA)
    with pytest.raises(BindingMismatch) as caught:
        verify(replace(evidence, certificates={"vcek": milan_vcek}))
    assert caught.value.check == "snp.product"


def test_unsigned_reports() -> None:
    evidence = provider().get_evidence(REPORT_DATA)
    report = SnpReport.from_bytes(evidence.report)
    unsigned = replace(report, signing_key=SigningKey.NONE).to_bytes()
    with pytest.raises(EvidenceSignatureInvalid, match="not signed"):
        verify(replace(evidence, report=unsigned))


def test_expired_vcek_fails_validity() -> None:
    evidence = provider(now=datetime(2001, 1, 1, tzinfo=UTC)).get_evidence(REPORT_DATA)
    with pytest.raises(CertificateChainInvalid, match="expired") as caught:
        verify(evidence)
    assert caught.value.check == "snp.validity"


def is_ask(cert: x509.Certificate) -> bool:
    return cert.subject.rfc4514_string().startswith("CN=SEV-Simulated,")


def test_ask_from_the_evidence_and_a_forged_ask() -> None:
    sim = provider()
    roots = sim_roots()
    ark_only = TrustedRoots(anchors=roots.anchors)
    (real_ask,) = (c for c in roots.intermediates if is_ask(c))
    evidence = sim.get_evidence(REPORT_DATA)
    with_ask = {**evidence.certificates, "ask": real_ask.public_bytes(Encoding.DER)}
    assert verify(replace(evidence, certificates=with_ask), ark_only)
    # Same name and key as the real ASK (so the VCEK verifies under it), but signed by a
    # rogue key instead of the ARK: the chain must stop there.
    rogue = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged_ask = (
        x509.CertificateBuilder()
        .subject_name(real_ask.subject)
        .issuer_name(real_ask.issuer)
        .public_key(real_ask.public_key())
        .serial_number(1)
        .not_valid_before(real_ask.not_valid_before_utc)
        .not_valid_after(real_ask.not_valid_after_utc)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(rogue, hashes.SHA384(), rsa_padding=PSS)
    )
    forged = {**evidence.certificates, "ask": forged_ask.public_bytes(Encoding.DER)}
    with pytest.raises(CertificateChainInvalid) as caught:
        verify(replace(evidence, certificates=forged), ark_only)
    assert "not itself signed by a trusted root" in caught.value.reason


# -- VLEK ---------------------------------------------------------------------------


def test_vlek_round_trip() -> None:
    sim = provider(signer="vlek", product="turin")
    evidence = sim.get_evidence(REPORT_DATA)
    assert set(evidence.certificates) == {"vlek"}
    claims = verify(evidence)
    assert claims.signer == "VLEK (Turin)"
    assert claims.details["csp_id"] == "veritee-simulated-csp"
    assert claims.details["signing_key"] == "VLEK"
    names = [c.name for c in claims.checks]
    assert "snp.vlek-chain" in names and "snp.csp-id" in names and "snp.chip-id" not in names
    assert "(ASVK)" in next(c.detail for c in claims.checks if c.name == "snp.vlek-chain")


def test_vlek_report_without_a_vlek_could_not_check() -> None:
    evidence = provider(signer="vlek").get_evidence(REPORT_DATA)
    with pytest.raises(CouldNotCheck) as caught:
        verify(replace(evidence, certificates={}))
    assert caught.value.check == "snp.vlek"


def test_certificate_kind_must_match_the_signing_key() -> None:
    vcek_sim, vlek_sim = provider(), provider(signer="vlek")
    # Signed by the VCEK key, but SIGNING_KEY says VLEK: the VCEK is presented as the VLEK.
    report = replace(vcek_sim.report(REPORT_DATA), signing_key=SigningKey.VLEK)
    evidence = Evidence(
        platform="sev-snp",
        report=vcek_sim.sign(report).to_bytes(),
        report_data=REPORT_DATA,
        provider="test",
        certificates={"vlek": vcek_sim.certificate_der},
    )
    with pytest.raises(BindingMismatch) as caught:
        verify(evidence)
    assert caught.value.check == "snp.csp-id"
    # Signed by the VLEK key, but SIGNING_KEY says VCEK: the VLEK is presented as the VCEK.
    report = replace(vlek_sim.report(REPORT_DATA), signing_key=SigningKey.VCEK)
    evidence = replace(
        evidence,
        report=vlek_sim.sign(report).to_bytes(),
        certificates={"vcek": vlek_sim.certificate_der},
    )
    with pytest.raises(BindingMismatch) as caught:
        verify(evidence)
    assert caught.value.check == "snp.chip-id"
