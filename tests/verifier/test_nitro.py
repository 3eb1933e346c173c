"""verify_nitro on real AWS documents and on simulated ones: claims, time, tampering."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from attestation.errors import MalformedEvidence
from attestation.evidence import Evidence
from attestation.formats.nitro import parse_nitro
from attestation.formats.nsm import AttestationRequest
from attestation.simulated.nitro import SimulatedNitro
from attestation.simulated.nitro_pki import NitroPki
from tests.helpers.nitro import (
    EVERVAULT_2022,
    EVERVAULT_2022_AT,
    EVERVAULT_2023,
    EVERVAULT_2023_AT,
    START,
    Clock,
    damage,
    evidence,
    read_vector,
)
from verifier.errors import (
    BadInput,
    BindingMismatch,
    CertificateChainInvalid,
    CouldNotCheck,
    EvidenceSignatureInvalid,
)
from verifier.nitro import verify_nitro
from verifier.trust import TrustedRoots

AWS = TrustedRoots.shipped("aws-nitro")
REPORT_DATA = bytes(range(1, 65))


@pytest.fixture(scope="module")
def simulator() -> SimulatedNitro:
    return SimulatedNitro(NitroPki.generate(START), clock=Clock())


@pytest.fixture(scope="module")
def sim_roots(simulator) -> TrustedRoots:
    return TrustedRoots.from_certificates([simulator.root_certificate])


def test_evervault_2022_verifies_at_its_own_timestamp(testvectors):
    verified = verify_nitro(evidence(read_vector(testvectors, EVERVAULT_2022)), roots=AWS)
    assert verified.platform == "nitro"
    assert verified.checked_at == EVERVAULT_2022_AT
    assert verified.measurements["pcr0"].startswith("f4d48b81")
    assert set(verified.measurements) == {"pcr0", "pcr1", "pcr2", "pcr3", "pcr4", "pcr8"}
    assert all(len(v) == 96 for v in verified.measurements.values())
    assert not verified.debug
    assert verified.report_data == bytes(64)
    assert len(bytes.fromhex(verified.details["nonce"])) == 256
    assert verified.details["user_data"] is None
    assert verified.details["public_key"] is None
    assert verified.details["module_id"] == "i-020b6af9246d90e92-enc0183d09086c24190"
    assert verified.details["timestamp"] == "2022-10-13T08:58:02.136000+00:00"
    assert verified.details["root_sha256"] == (
        "641a0321a3e244efe456463195d606317ed7cdcc3c1756e09893f3c68f79bb5b"
    )
    assert verified.tcb == {}
    assert [c.name for c in verified.checks] == [
        "nitro.chain",
        "nitro.cose-signature",
        "nitro.validity",
        "nitro.digest",
        "nitro.binding",
        "nitro.report-data",
    ]
    assert "aws.nitro-enclaves" in verified.signer


def test_evervault_2023_debug_key_binding(testvectors):
    verified = verify_nitro(evidence(read_vector(testvectors, EVERVAULT_2023)), roots=AWS)
    assert verified.checked_at == EVERVAULT_2023_AT
    assert verified.debug
    assert verified.measurements["pcr0"] == "00" * 48
    user_data = bytes.fromhex(verified.details["user_data"])
    assert len(user_data) == 91
    assert user_data.startswith(bytes.fromhex("3059301306072a8648ce3d020106082a8648ce3d030107"))
    # 91 bytes is not veritee's REPORT_DATA: the claim is zeros, the nonce is unbound.
    assert verified.report_data == bytes(64)
    assert len(bytes.fromhex(verified.details["nonce"])) == 256


@pytest.mark.parametrize(
    ("name", "at"), [(EVERVAULT_2022, EVERVAULT_2022_AT), (EVERVAULT_2023, EVERVAULT_2023_AT)]
)
def test_real_documents_fail_outside_their_window(testvectors, name, at):
    found = evidence(read_vector(testvectors, name))
    assert verify_nitro(found, roots=AWS, now=at + timedelta(hours=1)).checked_at == at + timedelta(
        hours=1
    )
    for now in (datetime.now(UTC), at + timedelta(hours=4), at - timedelta(hours=1)):
        with pytest.raises(CertificateChainInvalid) as caught:
            verify_nitro(found, roots=AWS, now=now)
        assert caught.value.check == "nitro.validity"


def test_real_documents_fail_against_simulated_roots(testvectors, sim_roots):
    with pytest.raises(CertificateChainInvalid) as caught:
        verify_nitro(evidence(read_vector(testvectors, EVERVAULT_2022)), roots=sim_roots)
    assert caught.value.check == "nitro.chain"
    assert "not a trusted anchor" in caught.value.reason


def test_simulated_documents_verify_with_simulator_roots_only(simulator, sim_roots):
    found = simulator.get_evidence(REPORT_DATA)
    verified = verify_nitro(found, roots=sim_roots)
    assert verified.report_data == REPORT_DATA
    assert verified.details["user_data"] == REPORT_DATA.hex()
    assert verified.details["nonce"] == REPORT_DATA[32:].hex()
    assert [c.detail for c in verified.checks if c.name == "nitro.binding"] == [
        "the nonce is the second half of the 64-byte user_data"
    ]
    assert verify_nitro(found, roots=AWS + sim_roots).report_data == REPORT_DATA
    with pytest.raises(CertificateChainInvalid) as caught:
        verify_nitro(found, roots=AWS)
    assert caught.value.check == "nitro.chain"


def test_no_roots_at_all_could_not_check(simulator):
    with pytest.raises(CouldNotCheck) as caught:
        verify_nitro(simulator.get_evidence(REPORT_DATA), roots=TrustedRoots())
    assert caught.value.check == "nitro.chain"


def test_nonce_must_be_the_second_half_of_user_data(simulator, sim_roots):
    raw = simulator.attest(AttestationRequest(user_data=REPORT_DATA, nonce=bytes(32)))
    with pytest.raises(BindingMismatch) as caught:
        verify_nitro(evidence(raw, REPORT_DATA), roots=sim_roots)
    assert caught.value.check == "nitro.binding"


def test_user_data_without_nonce_binds_nothing_more(simulator, sim_roots):
    raw = simulator.attest(AttestationRequest(user_data=REPORT_DATA))
    verified = verify_nitro(evidence(raw, REPORT_DATA), roots=sim_roots)
    assert verified.report_data == REPORT_DATA
    assert verified.details["nonce"] is None


def test_evidence_report_data_must_be_the_signed_one(simulator, sim_roots):
    found = simulator.get_evidence(REPORT_DATA)
    lying = Evidence(platform="nitro", report=found.report, report_data=bytes(64), provider="x")
    with pytest.raises(BindingMismatch) as caught:
        verify_nitro(lying, roots=sim_roots)
    assert caught.value.check == "nitro.report-data"


def test_now_must_be_timezone_aware(simulator, sim_roots):
    with pytest.raises(BadInput):
        verify_nitro(simulator.get_evidence(REPORT_DATA), roots=sim_roots, now=datetime(2025, 1, 1))


def test_other_platforms_evidence_is_refused(simulator, sim_roots):
    found = simulator.get_evidence(REPORT_DATA)
    other = Evidence(platform="tdx", report=found.report, report_data=REPORT_DATA, provider="x")
    with pytest.raises(BadInput):
        verify_nitro(other, roots=sim_roots)


def test_malformed_report_is_malformed_evidence(sim_roots):
    with pytest.raises(MalformedEvidence):
        verify_nitro(evidence(b"\x84\x40\xa0\x40\x40"), roots=sim_roots)


# Tampering: flip one byte at a time and expect the error named for the region hit.
ALLOWED = {
    "protected": {MalformedEvidence, EvidenceSignatureInvalid},
    "signature": {EvidenceSignatureInvalid},
    "payload": {MalformedEvidence, EvidenceSignatureInvalid},
    # Certificates sit inside the COSE-signed payload. A flip that leaves a certificate's
    # meaning intact (e.g. the BIT STRING unused-bits octet of its signature) passes the chain
    # and is then caught by the COSE signature: still detected, by another check.
    "certificate": {MalformedEvidence, CertificateChainInvalid, EvidenceSignatureInvalid},
    "cabundle": {MalformedEvidence, CertificateChainInvalid, EvidenceSignatureInvalid},
}
# The error each region must produce at least once (not only the parser's).
MAIN = {
    "signature": EvidenceSignatureInvalid,
    "payload": EvidenceSignatureInvalid,
    "certificate": CertificateChainInvalid,
    "cabundle": CertificateChainInvalid,
}
STRIDE = {"protected": 1, "signature": 1, "payload": 3, "certificate": 2, "cabundle": 3}
# Flipped certificates may hold a negative serial or an odd name: cryptography warns.
quiet_cryptography = pytest.mark.filterwarnings(
    "ignore::cryptography.utils.CryptographyDeprecationWarning", "ignore::UserWarning"
)
MASKS = (0x01, 0x80, 0xFF, 0x10)


def regions(raw: bytes) -> dict[str, list[int]]:
    signed = parse_nitro(raw)
    payload, doc = signed.cose.payload, signed.document
    payload_at = raw.index(payload)

    def span(part: bytes, base: int = payload_at, within: bytes = payload) -> list[int]:
        start = base + within.index(part)
        return list(range(start, start + len(part)))

    found = {
        "protected": span(signed.cose.protected, 0, raw[:16]),
        "signature": list(range(len(raw) - 96, len(raw))),
        "certificate": span(doc.certificate),
        "cabundle": [p for der in doc.cabundle for p in span(der)],
    }
    certs = set(found["certificate"]) | set(found["cabundle"])
    found["payload"] = [p for p in range(payload_at, payload_at + len(payload)) if p not in certs]
    return found


def flipped_outcomes(raw: bytes, region: str, verify) -> set[type]:
    outcomes: set[type] = set()
    for n, position in enumerate(regions(raw)[region][:: STRIDE[region]]):
        tampered = bytearray(raw)
        tampered[position] ^= MASKS[n % len(MASKS)]
        try:
            verify(bytes(tampered))
        except Exception as exc:  # the test is about which errors come out
            outcomes.add(type(exc))
            assert type(exc) in ALLOWED[region], f"{region} byte {position}: {exc!r}"
        else:
            pytest.fail(f"{region} byte {position} flipped and the document still verified")
    return outcomes


@quiet_cryptography
@pytest.mark.parametrize("region", sorted(ALLOWED))
@pytest.mark.parametrize("name", [EVERVAULT_2022, EVERVAULT_2023])
def test_flipped_bytes_in_real_documents_fail_with_the_right_error(testvectors, name, region):
    raw = read_vector(testvectors, name)
    outcomes = flipped_outcomes(raw, region, lambda r: verify_nitro(evidence(r), roots=AWS))
    if region in MAIN:
        assert MAIN[region] in outcomes


@quiet_cryptography
@pytest.mark.parametrize("region", sorted(ALLOWED))
def test_flipped_bytes_in_simulated_documents_fail_with_the_right_error(
    simulator, sim_roots, region
):
    raw = simulator.get_evidence(REPORT_DATA).report
    outcomes = flipped_outcomes(
        raw, region, lambda r: verify_nitro(evidence(r, REPORT_DATA), roots=sim_roots)
    )
    if region in MAIN:
        assert MAIN[region] in outcomes


@quiet_cryptography
@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_random_damage_never_verifies_and_raises_named_errors_only(simulator, sim_roots, data):
    original = simulator.get_evidence(REPORT_DATA).report
    raw = damage(original, data.draw, max_hits=3)
    assume(raw != original)
    with pytest.raises((MalformedEvidence, EvidenceSignatureInvalid, CertificateChainInvalid)):
        verify_nitro(evidence(raw, REPORT_DATA), roots=sim_roots)
