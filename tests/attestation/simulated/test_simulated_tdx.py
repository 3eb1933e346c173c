"""The simulated TDX platform: state directory, quotes, collateral, provider."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography import x509

from attestation.errors import InvalidReportData
from attestation.evidence import EvidenceProvider
from attestation.formats.tdx import TdxQuote
from attestation.simulated.tdx import SimulatedTdx, SimulatedTdxConfig, SimulatedTdxProvider
from attestation.simulated.tdx_pki import SimulatedPki
from tests.helpers.tdx import SIM_TIME


def test_state_directory_persists_the_pki(tmp_path: Path) -> None:
    first = SimulatedTdx.open(tmp_path, now=SIM_TIME)
    again = SimulatedTdx.open(tmp_path, now=SIM_TIME)
    assert again.pki.root.cert == first.pki.root.cert
    assert (
        again.pki.attestation_key.private_numbers() == first.pki.attestation_key.private_numbers()
    )
    root = x509.load_pem_x509_certificate(SimulatedTdx.roots_file(tmp_path).read_bytes())
    assert root == first.pki.root.cert
    assert sorted(p.name for p in (tmp_path / "roots").iterdir()) == ["simulated-sgx-root-ca.pem"]
    assert (tmp_path / "tdx" / "pck.key.pem").stat().st_mode & 0o077 == 0


def test_quotes_carry_the_configured_td() -> None:
    config = SimulatedTdxConfig(mrtd=b"\x11" * 48, rtmrs=(b"\x01" * 48,) * 4, debug=True)
    sim = SimulatedTdx.create(now=SIM_TIME, config=config)
    quote = TdxQuote.from_bytes(sim.quote(b"\x42" * 64))
    assert quote.body.mrtd == b"\x11" * 48
    assert quote.body.rtmrs[3] == b"\x01" * 48
    assert quote.body.report_data == b"\x42" * 64
    assert quote.body.debug is True
    assert SimulatedTdx.create(now=SIM_TIME).body(bytes(64)).debug is False


def test_collateral_is_signed_json_and_crls() -> None:
    sim = SimulatedTdx.create(now=SIM_TIME)
    collateral = sim.collateral(SIM_TIME)
    tcb_info = json.loads(collateral["tcb_info"])
    assert tcb_info["fmspc"] == "00EE0F000000"
    assert tcb_info["issueDate"] == "2026-01-01T00:00:00Z"
    assert len(collateral["tcb_info_signature"]) == 64
    crl = x509.load_der_x509_crl(collateral["pck_crl"])
    assert crl.issuer == sim.pki.pck_ca.cert.subject
    assert crl.is_signature_valid(sim.pki.pck_ca.cert.public_key())  # type: ignore[arg-type]


def test_provider_binds_report_data_and_attaches_collateral() -> None:
    sim = SimulatedTdx.create(now=SIM_TIME)
    provider = SimulatedTdxProvider(sim, clock=lambda: SIM_TIME)
    assert isinstance(provider, EvidenceProvider)
    evidence = provider.get_evidence(bytes(range(64)))
    assert (evidence.platform, evidence.provider) == ("tdx", "simulated-tdx")
    assert TdxQuote.from_bytes(evidence.report).body.report_data == bytes(range(64))
    assert set(evidence.collateral) >= {"tcb_info", "qe_identity", "pck_crl", "root_ca_crl"}
    bare = SimulatedTdxProvider(sim, clock=lambda: SIM_TIME, attach_collateral=False)
    assert not bare.get_evidence(bytes(64)).collateral
    with pytest.raises(InvalidReportData):
        provider.get_evidence(bytes(63))


def test_a_second_first_start_keeps_the_first_pki(tmp_path: Path) -> None:
    first = SimulatedTdx.open(tmp_path, now=SIM_TIME)
    late = SimulatedTdx.create(now=SIM_TIME).pki.save_once(tmp_path)  # lost the race
    assert late.root.cert == first.pki.root.cert
    assert SimulatedPki.load(tmp_path).root.cert == first.pki.root.cert
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".tdx-")]
