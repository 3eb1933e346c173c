"""The simulated SEV-SNP provider: state created once, byte-exact signed reports."""

from __future__ import annotations

import stat
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from attestation.errors import InvalidReportData
from attestation.evidence import EvidenceProvider
from attestation.formats.snp import SnpReport
from attestation.formats.snp_certs import EndorsementExtensions, load_certificate
from attestation.formats.snp_tcb import TcbVersion
from attestation.simulated.snp import SimulatedSnpProvider
from tests.helpers.snp import simulated_state_dir

REPORT_DATA = bytes(range(64))


def test_state_is_created_once_with_private_keys_private() -> None:
    state = simulated_state_dir()
    first = SimulatedSnpProvider(state)
    ark = (state / "ark.pem").read_bytes()
    second = SimulatedSnpProvider(state, product="genoa")
    assert (state / "ark.pem").read_bytes() == ark
    assert first.roots_dir == second.roots_dir == state
    for name in ("ark.key", "ask.key", "chip.key"):
        assert stat.S_IMODE((state / name).stat().st_mode) == 0o600
    assert stat.S_IMODE(state.stat().st_mode) == 0o700
    public = {p.name for p in state.glob("*.pem")}  # asvk.pem once a VLEK test ran
    assert {"ark.pem", "ask.pem"} <= public <= {"ark.pem", "ask.pem", "asvk.pem"}
    assert b"PRIVATE" not in ark + (state / "ask.pem").read_bytes()


def test_provider_interface() -> None:
    provider = SimulatedSnpProvider(simulated_state_dir())
    assert isinstance(provider, EvidenceProvider)
    assert (provider.name, provider.platform) == ("simulated-sev-snp", "sev-snp")
    with pytest.raises(InvalidReportData):
        provider.get_evidence(bytes(63))


def test_evidence_is_a_byte_exact_signed_report() -> None:
    measurement = bytes.fromhex("ab" * 48)
    provider = SimulatedSnpProvider(
        simulated_state_dir(), product="genoa", measurement=measurement, policy=0xB0000, vmpl=2
    )
    evidence = provider.get_evidence(REPORT_DATA)
    assert (evidence.platform, evidence.provider) == ("sev-snp", "simulated-sev-snp")
    assert evidence.report_data == REPORT_DATA
    assert set(evidence.certificates) == {"vcek"}
    report = SnpReport.from_bytes(evidence.report)
    assert report.to_bytes() == evidence.report
    assert (report.report_data, report.measurement) == (REPORT_DATA, measurement)
    assert (report.policy, report.debug, report.vmpl, report.version) == (0xB0000, True, 2, 5)
    assert report.cpuid_product == "genoa"
    vcek = load_certificate(evidence.certificates["vcek"], "vcek")
    key = vcek.public_key()
    assert isinstance(key, ec.EllipticCurvePublicKey)
    signature = encode_dss_signature(report.signature_r, report.signature_s)
    key.verify(signature, evidence.report[:0x2A0], ec.ECDSA(hashes.SHA384()))


def test_each_report_binds_its_own_report_data() -> None:
    provider = SimulatedSnpProvider(simulated_state_dir())
    one, two = provider.get_evidence(bytes(64)), provider.get_evidence(b"\x01" * 64)
    assert one.report[0x50:0x90] == bytes(64)
    assert two.report[0x50:0x90] == b"\x01" * 64
    assert one.report[:0x50] == two.report[:0x50]


def test_vcek_endorses_the_configured_tcb_and_chip() -> None:
    tcb = TcbVersion("turin", bootloader=7, tee=6, snp=5, microcode=4, fmc=3)
    chip_id = bytes(range(1, 9)) + bytes(56)
    provider = SimulatedSnpProvider(
        simulated_state_dir(), product="turin", tcb=tcb, chip_id=chip_id, version=3
    )
    report = SnpReport.from_bytes(provider.get_evidence(REPORT_DATA).report)
    extensions = EndorsementExtensions.from_certificate(provider.certificate)
    assert extensions.product_name == "Turin-B0"
    assert extensions.tcb("turin") == tcb
    assert report.reported_tcb == report.current_tcb == tcb.raw()
    assert extensions.hwid == bytes(range(1, 9))
    assert report.chip_id == chip_id
    assert report.cpuid_product == "turin"


def test_default_chip_id_is_stable_per_state() -> None:
    state = simulated_state_dir()
    assert SimulatedSnpProvider(state).chip_id == SimulatedSnpProvider(state).chip_id
    turin = SimulatedSnpProvider(state, product="turin").chip_id
    assert turin[8:] == bytes(56) and any(turin[:8])


def test_certificates_are_issued_at_the_given_time() -> None:
    when = datetime(2024, 6, 1, tzinfo=UTC)
    provider = SimulatedSnpProvider(simulated_state_dir(), now=when)
    assert (
        provider.certificate.not_valid_before_utc < when < provider.certificate.not_valid_after_utc
    )


def test_configuration_errors() -> None:
    state = simulated_state_dir()
    with pytest.raises(ValueError, match="version"):
        SimulatedSnpProvider(state, version=1)
    with pytest.raises(ValueError, match="laid out for milan"):
        SimulatedSnpProvider(state, product="genoa", tcb=TcbVersion("milan", 1, 1, 1, 1))
