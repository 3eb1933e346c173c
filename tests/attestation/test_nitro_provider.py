"""The /dev/nsm provider: NSM messages, the ioctl marshalling, and a fake NSM behind both."""

from __future__ import annotations

import contextlib
import ctypes
import errno

import cbor2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attestation.errors import MalformedEvidence, PlatformUnavailable, ProviderError
from attestation.evidence import EvidenceProvider
from attestation.formats.nitro import parse_nitro
from attestation.formats.nsm import (
    NSM_IOCTL_RAW,
    NSM_RAW,
    NSM_RESPONSE_MAX_SIZE,
    AttestationRequest,
    AttestationResponse,
    ErrorResponse,
    decode_response,
)
from attestation.providers.nitro import DevNsm, NitroNsmProvider
from attestation.simulated.nitro import SimulatedNitro
from attestation.simulated.nitro_pki import NitroPki
from attestation.simulated.nsm import FakeNsm
from tests.helpers.nitro import START, Clock
from verifier.nitro import verify_nitro
from verifier.trust import TrustedRoots

REPORT_DATA = bytes(range(64))


@pytest.fixture(scope="module")
def simulator() -> SimulatedNitro:
    return SimulatedNitro(NitroPki.generate(START), clock=Clock())


@pytest.fixture
def device_file(tmp_path):
    """Something DevNsm can open; the fake ioctl plays the driver behind it."""
    path = tmp_path / "nsm"
    path.write_bytes(b"")
    return path


def test_ioctl_number_matches_the_kernel_uapi():
    # _IOWR(0x0A, 0, struct nsm_raw), sizeof(struct nsm_raw) == 32
    assert NSM_RAW.size == 32
    assert NSM_IOCTL_RAW == 0xC0200A00


def test_request_encoding_known_answer():
    request = AttestationRequest(user_data=b"\x01", nonce=b"\x02", public_key=None)
    expected = (
        "a1" + "6b" + b"Attestation".hex()
        + "a3" + "69" + b"user_data".hex() + "4101"
        + "65" + b"nonce".hex() + "4102"
        + "6a" + b"public_key".hex() + "f6"
    )  # fmt: skip
    assert request.to_cbor().hex() == expected
    assert AttestationRequest.from_cbor(request.to_cbor()) == request


def test_request_for_report_data_splits_the_nonce():
    request = AttestationRequest.for_report_data(REPORT_DATA, public_key=b"pk")
    assert request.user_data == REPORT_DATA
    assert request.nonce == REPORT_DATA[32:]
    assert request.public_key == b"pk"


def test_responses_decode():
    assert decode_response(AttestationResponse(b"doc").to_cbor()) == AttestationResponse(b"doc")
    assert decode_response(cbor2.dumps({"Error": "InputTooLarge"})) == ErrorResponse(
        "InputTooLarge"
    )
    for bad in ({"Error": "Nope"}, {"Error": 3}, {"GetRandom": {}}, {"Attestation": {}}, [1]):
        with pytest.raises(MalformedEvidence):
            decode_response(cbor2.dumps(bad))


def test_provider_is_an_evidence_provider(simulator):
    assert isinstance(NitroNsmProvider(FakeNsm(simulator)), EvidenceProvider)


def test_round_trip_through_dev_nsm_and_the_fake_kernel(simulator, device_file):
    fake = FakeNsm(simulator)
    provider = NitroNsmProvider(DevNsm(device_file, ioctl=fake.ioctl), public_key=b"\x04" * 65)
    found = provider.get_evidence(REPORT_DATA)
    assert found.platform == "nitro"
    assert found.provider == "nitro-nsm"
    assert found.report_data == REPORT_DATA
    assert fake.requests == [AttestationRequest(REPORT_DATA, REPORT_DATA[32:], b"\x04" * 65)]
    roots = TrustedRoots.from_certificates([simulator.root_certificate])
    verified = verify_nitro(found, roots=roots)
    assert verified.report_data == REPORT_DATA
    assert verified.details["nonce"] == REPORT_DATA[32:].hex()
    assert verified.details["public_key"] == "04" * 65


def test_round_trip_through_the_fake_device(simulator):
    found = NitroNsmProvider(FakeNsm(simulator)).get_evidence(REPORT_DATA)
    document = parse_nitro(found.report).document
    assert (document.user_data, document.nonce, document.public_key) == (
        REPORT_DATA,
        REPORT_DATA[32:],
        None,
    )


def test_fake_kernel_truncates_to_the_response_capacity(simulator):
    """As the driver does: the written length comes back in response.len."""
    fake = FakeNsm(simulator)
    request = AttestationRequest.for_report_data(REPORT_DATA).to_cbor()
    request_buffer = ctypes.create_string_buffer(request, len(request))
    response_buffer = ctypes.create_string_buffer(16)
    arg = bytearray(
        NSM_RAW.pack(
            ctypes.addressof(request_buffer), len(request), ctypes.addressof(response_buffer), 16
        )
    )
    fake.ioctl(3, NSM_IOCTL_RAW, arg)
    assert NSM_RAW.unpack(arg)[3] == 16
    with pytest.raises(OSError) as caught:
        fake.ioctl(3, NSM_IOCTL_RAW + 1, arg)
    assert caught.value.errno == errno.EINVAL


def test_missing_device_is_platform_unavailable(tmp_path):
    provider = NitroNsmProvider(DevNsm(tmp_path / "no-nsm"))
    with pytest.raises(PlatformUnavailable):
        provider.get_evidence(REPORT_DATA)


def test_real_ioctl_on_a_plain_file_is_a_provider_error(device_file):
    """The default ioctl is the system's: a regular file answers ENOTTY."""
    with pytest.raises(ProviderError, match="ioctl"):
        NitroNsmProvider(DevNsm(device_file)).get_evidence(REPORT_DATA)


@pytest.mark.parametrize(
    ("error", "message"),
    [(errno.EMSGSIZE, "too large"), (errno.EIO, "ioctl")],
)
def test_ioctl_errors_are_provider_errors(device_file, error, message):
    def failing(fd, request, arg):
        raise OSError(error, "no")

    with pytest.raises(ProviderError, match=message):
        NitroNsmProvider(DevNsm(device_file, ioctl=failing)).get_evidence(REPORT_DATA)


@pytest.mark.parametrize("written", [0, NSM_RESPONSE_MAX_SIZE + 1])
def test_impossible_response_lengths_are_provider_errors(device_file, written):
    def lying(fd, request, arg):
        fields = list(NSM_RAW.unpack(arg))
        fields[3] = written
        arg[:] = NSM_RAW.pack(*fields)

    with pytest.raises(ProviderError, match="bytes"):
        NitroNsmProvider(DevNsm(device_file, ioctl=lying)).get_evidence(REPORT_DATA)


def test_nsm_refusal_is_a_provider_error(simulator):
    with pytest.raises(ProviderError, match="InternalError"):
        NitroNsmProvider(FakeNsm(simulator, refuse="InternalError")).get_evidence(REPORT_DATA)


class Replying:
    def __init__(self, answer: bytes) -> None:
        self.answer = answer

    def call(self, request: bytes) -> bytes:
        return self.answer


def test_garbage_answers_are_provider_errors(simulator):
    for answer in (b"\xff", cbor2.dumps({"Attestation": {"document": b"not cose"}})):
        with pytest.raises(ProviderError):
            NitroNsmProvider(Replying(answer)).get_evidence(REPORT_DATA)


def test_document_for_other_data_is_a_provider_error(simulator):
    """An NSM (or something posing as one) that answers a different request."""
    stale = simulator.get_evidence(bytes(64)).report
    with pytest.raises(ProviderError, match="does not carry"):
        NitroNsmProvider(Replying(AttestationResponse(stale).to_cbor())).get_evidence(REPORT_DATA)


def test_fake_answers_bad_requests_with_nsm_errors(simulator):
    fake = FakeNsm(simulator)
    assert decode_response(fake.call(b"\xff")) == ErrorResponse("InvalidArgument")
    assert decode_response(fake.call(cbor2.dumps("GetRandom"))) == ErrorResponse("InvalidArgument")
    big = AttestationRequest(user_data=bytes(1024), nonce=bytes(1024), public_key=bytes(1024))
    assert decode_response(fake.call(big.to_cbor() + bytes(1024))) == ErrorResponse("InputTooLarge")


def test_report_data_must_be_64_bytes(simulator):
    with pytest.raises(ValueError, match="64 bytes"):
        NitroNsmProvider(FakeNsm(simulator)).get_evidence(bytes(63))


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_random_responses_decode_or_raise_malformed_only(raw):
    with contextlib.suppress(MalformedEvidence):
        decode_response(raw)
