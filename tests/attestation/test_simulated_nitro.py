"""simulated-nitro: the local PKI, its state directory, and the documents it signs."""

from __future__ import annotations

import itertools
import stat
from datetime import timedelta

import pytest
from cryptography import x509

from attestation.errors import MalformedEvidence, ProviderError
from attestation.evidence import EvidenceProvider
from attestation.formats.nitro import parse_nitro
from attestation.simulated.nitro import SimulatedNitro
from attestation.simulated.nitro_pki import LEVELS, ROOT_CERT_FILE, NitroPki
from tests.helpers.nitro import Clock
from verifier.nitro import verify_nitro
from verifier.trust import TrustedRoots

REPORT_DATA = bytes(range(100, 164))


def test_state_dir_is_created_once_and_reused(tmp_path):
    clock = Clock()
    first = SimulatedNitro.from_state_dir(tmp_path, clock=clock)
    key_file = tmp_path / "nitro" / "root-key.pem"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    root_file = tmp_path / "roots" / ROOT_CERT_FILE
    assert x509.load_pem_x509_certificate(root_file.read_bytes()) == first.root_certificate
    assert [p.name for p in (tmp_path / "roots").iterdir()] == [ROOT_CERT_FILE]
    second = SimulatedNitro.from_state_dir(tmp_path, clock=clock)
    assert second.root_certificate == first.root_certificate
    root_file.unlink()
    SimulatedNitro.from_state_dir(tmp_path, clock=clock)
    assert root_file.is_file()  # republished


def test_roots_dir_is_what_a_verifier_loads(tmp_path):
    simulator = SimulatedNitro.from_state_dir(tmp_path, clock=Clock())
    assert simulator.roots_dir == tmp_path / "roots"
    roots = TrustedRoots.from_paths([tmp_path / "roots"])
    assert roots.anchors == (simulator.root_certificate,)
    verified = verify_nitro(simulator.get_evidence(REPORT_DATA), roots=roots)
    assert verified.report_data == REPORT_DATA


def test_inconsistent_state_dir_is_refused(tmp_path):
    SimulatedNitro.from_state_dir(tmp_path, clock=Clock())
    other = tmp_path / "other"
    SimulatedNitro.from_state_dir(other, clock=Clock())
    (tmp_path / "nitro" / "root.pem").write_bytes((other / "nitro" / "root.pem").read_bytes())
    with pytest.raises(ProviderError, match="differ"):
        SimulatedNitro.from_state_dir(tmp_path, clock=Clock())
    (tmp_path / "nitro" / "root.pem").write_bytes(b"junk")
    with pytest.raises(ProviderError, match="unreadable"):
        SimulatedNitro.from_state_dir(tmp_path, clock=Clock())


def test_is_an_evidence_provider():
    simulator = SimulatedNitro(NitroPki.generate(Clock().now), clock=Clock())
    assert isinstance(simulator, EvidenceProvider)
    assert (simulator.name, simulator.platform) == ("simulated-nitro", "nitro")


def test_chain_is_shaped_like_aws():
    clock = Clock()
    simulator = SimulatedNitro(NitroPki.generate(clock.now), clock=clock)
    doc = parse_nitro(simulator.get_evidence(REPORT_DATA).report).document
    certs = [*doc.bundle, doc.leaf]
    assert len(doc.cabundle) == 4
    assert doc.bundle[0] == simulator.root_certificate
    for issuer, child in itertools.pairwise(certs):
        assert child.issuer == issuer.subject
    lifetimes = [c.not_valid_after_utc - c.not_valid_before_utc for c in certs[1:]]
    assert lifetimes == [level.lifetime for level in LEVELS]
    assert doc.leaf.not_valid_before_utc <= doc.timestamp < doc.leaf.not_valid_after_utc
    assert doc.timestamp == clock.now
    assert doc.module_id == simulator.pki.module_id
    assert doc.module_id in doc.leaf.subject.rfc4514_string()


def test_leaf_is_reused_then_reissued_as_the_clock_moves():
    clock = Clock()
    simulator = SimulatedNitro(NitroPki.generate(clock.now), clock=clock)
    roots = TrustedRoots.from_certificates([simulator.root_certificate])

    def leaf_and_bundle():
        document = parse_nitro(simulator.get_evidence(REPORT_DATA).report).document
        return document.certificate, document.cabundle

    first_leaf, first_bundle = leaf_and_bundle()
    clock.advance(timedelta(hours=1))
    assert leaf_and_bundle() == (first_leaf, first_bundle)
    clock.advance(timedelta(hours=2, minutes=1))
    later_leaf, later_bundle = leaf_and_bundle()
    assert later_leaf != first_leaf
    assert later_bundle == first_bundle  # the instance certificate still covers it
    clock.advance(timedelta(days=30))
    _, much_later_bundle = leaf_and_bundle()
    assert much_later_bundle[0] == first_bundle[0]
    assert much_later_bundle[1:] != first_bundle[1:]
    # Each document verifies at its own time; none at a time its leaf does not cover.
    found = simulator.get_evidence(REPORT_DATA)
    assert verify_nitro(found, roots=roots).checked_at == clock.now
    clock.advance(timedelta(hours=-4))  # a clock that went back gets a new chain too
    assert verify_nitro(simulator.get_evidence(REPORT_DATA), roots=roots).checked_at == clock.now


def test_pcrs_and_public_key_are_configurable():
    clock = Clock()
    pcr0 = bytes([7]) * 48
    simulator = SimulatedNitro(
        NitroPki.generate(clock.now), clock=clock, pcrs={0: pcr0}, public_key=b"\x30" * 91
    )
    roots = TrustedRoots.from_certificates([simulator.root_certificate])
    verified = verify_nitro(simulator.get_evidence(REPORT_DATA), roots=roots)
    assert verified.measurements["pcr0"] == pcr0.hex()
    assert set(verified.measurements) == {"pcr0", "pcr1", "pcr2", "pcr3", "pcr4", "pcr8"}
    assert len(set(verified.measurements.values())) == 6
    assert verified.details["public_key"] == ("30" * 91)
    assert not verified.debug


def test_zero_pcr0_to_2_is_a_debug_enclave():
    clock = Clock()
    zeros = {i: bytes(48) for i in (0, 1, 2)}
    simulator = SimulatedNitro(NitroPki.generate(clock.now), clock=clock, pcrs=zeros)
    roots = TrustedRoots.from_certificates([simulator.root_certificate])
    assert verify_nitro(simulator.get_evidence(REPORT_DATA), roots=roots).debug


@pytest.mark.parametrize("pcrs", [{16: bytes(48)}, {0: bytes(32)}, {"0": bytes(48)}])
def test_bad_pcr_configuration_is_refused(pcrs):
    with pytest.raises(MalformedEvidence):
        SimulatedNitro(NitroPki.generate(Clock().now), pcrs=pcrs)


def test_tagged_documents_on_request():
    clock = Clock()
    simulator = SimulatedNitro(NitroPki.generate(clock.now), clock=clock, tagged=True)
    raw = simulator.get_evidence(REPORT_DATA).report
    assert raw[0] == 0xD2
    roots = TrustedRoots.from_certificates([simulator.root_certificate])
    assert verify_nitro(simulator.get_evidence(REPORT_DATA), roots=roots).details["cose_tagged"]
