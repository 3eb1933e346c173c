"""The Azure HCL report: layout, the runtime data and its AK JWK, malformed input."""

from __future__ import annotations

import base64
import hashlib
import struct

import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from hypothesis import given
from hypothesis import strategies as st

from attestation.errors import MalformedEvidence
from attestation.formats.hcl import HardwareReportType, HclReport
from attestation.simulated.vtpm_cloud import build_hcl_report

SNP_REPORT = bytes(range(256)) * 4 + bytes(160)  # 1184 bytes
TD_REPORT = b"\x07" * 1024


def b64(value: int, size: int) -> str:
    return base64.urlsafe_b64encode(value.to_bytes(size, "big")).rstrip(b"=").decode()


def runtime(keys: object, **extra: object) -> bytes:
    return orjson.dumps({"keys": keys, "vm-configuration": {"secure-boot": True}, **extra})


RSA_KEY = rsa.generate_private_key(65537, 2048).public_key().public_numbers()
RSA_JWK = {"kid": "HCLAkPub", "kty": "RSA", "e": b64(65537, 3), "n": b64(RSA_KEY.n, 256)}


def report(
    runtime_data: bytes = runtime([RSA_JWK]), kind: HardwareReportType = HardwareReportType.SNP
) -> bytes:
    hardware = SNP_REPORT if kind == HardwareReportType.SNP else TD_REPORT
    return build_hcl_report(hardware, runtime_data, kind).to_bytes()


def test_layout_offsets() -> None:
    raw = report()
    assert raw[:4] == b"HCLA"
    assert raw[32 : 32 + 1184] == SNP_REPORT
    assert struct.unpack_from("<5I", raw, 0x4C0)[2:] == (2, 1, len(runtime([RSA_JWK])))
    assert raw[0x4D4:] == runtime([RSA_JWK])


def test_snp_report_and_its_report_data() -> None:
    hcl = HclReport.from_bytes(report())
    assert hcl.platform == "sev-snp"
    assert hcl.hardware_report == SNP_REPORT
    assert hcl.hardware_report_data == SNP_REPORT[0x50:0x90]
    assert hcl.runtime_data_digest() == hashlib.sha256(runtime([RSA_JWK])).digest()
    assert HclReport.from_bytes(hcl.to_bytes()) == hcl


def test_tdx_report_is_the_first_1024_bytes_of_the_area() -> None:
    hcl = HclReport.from_bytes(report(kind=HardwareReportType.TDX))
    assert hcl.platform == "tdx"
    assert hcl.hardware_report == TD_REPORT
    assert len(hcl.hardware_area) == 1184
    assert hcl.hardware_report_data == TD_REPORT[128:192]


@pytest.mark.parametrize(("hash_type", "name"), [(1, "sha256"), (2, "sha384"), (3, "sha512")])
def test_report_data_hash_types(hash_type: int, name: str) -> None:
    raw = bytearray(report())
    struct.pack_into("<I", raw, 0x4CC, hash_type)
    hcl = HclReport.from_bytes(bytes(raw))
    assert hcl.runtime_data_digest() == hashlib.new(name, hcl.runtime_data).digest()


def test_nv_padding_is_dropped_but_never_tolerated_by_from_bytes() -> None:
    raw = report()
    assert HclReport.from_nv(raw + bytes(700)).to_bytes() == raw
    with pytest.raises(MalformedEvidence, match="trailing") as info:
        HclReport.from_bytes(raw + b"\x00")
    assert info.value.offset == len(raw)


@pytest.mark.parametrize(
    ("offset", "value", "field"),
    [
        (0x000, 0x41414141, "hcl.header.signature"),
        (0x4C8, 3, "hcl.request_data.report_type"),
        (0x4CC, 9, "hcl.request_data.report_data_hash_type"),
        (0x4D0, 10**6, "hcl.request_data.variable_data_size"),
    ],
)
def test_bad_fields_are_named_with_their_offset(offset: int, value: int, field: str) -> None:
    raw = bytearray(report())
    struct.pack_into("<I", raw, offset, value)
    with pytest.raises(MalformedEvidence) as info:
        HclReport.from_bytes(bytes(raw))
    assert (info.value.field, info.value.offset) == (field, offset)


def test_too_short() -> None:
    with pytest.raises(MalformedEvidence, match="at least 1236"):
        HclReport.from_bytes(report()[:1235])


def test_rsa_ak_jwk() -> None:
    jwk = HclReport.from_bytes(report()).ak_jwk()
    assert (jwk.kty, jwk.n, jwk.e) == ("RSA", RSA_KEY.n, 65537)
    assert jwk.public_key().public_numbers() == RSA_KEY


def test_ec_ak_jwk() -> None:
    numbers = ec.generate_private_key(ec.SECP256R1()).public_key().public_numbers()
    key = {"kid": "HCLAkPub", "kty": "EC", "crv": "P-256", "x": b64(numbers.x, 32)}
    key["y"] = b64(numbers.y, 32)
    jwk = HclReport.from_bytes(report(runtime([key]))).ak_jwk()
    assert jwk.public_key().public_numbers() == numbers


@pytest.mark.parametrize(
    ("runtime_data", "match"),
    [
        (b"not json", "not JSON"),
        (b"[1, 2]", "not a JSON object"),
        (runtime("nope"), "no 'keys' list"),
        (runtime([]), "found 0"),
        (runtime([RSA_JWK, RSA_JWK]), "found 2"),
        (runtime([{**RSA_JWK, "n": "!!"}]), "not base64url"),
        (runtime([{**RSA_JWK, "e": ""}]), "missing"),
        (runtime([{**RSA_JWK, "kty": "oct"}]), "unsupported key type"),
        (
            runtime([{"kid": "HCLAkPub", "kty": "EC", "crv": "P-256", "x": "AQ", "y": "AQ"}]),
            "valid",
        ),
        (
            runtime([{"kid": "HCLAkPub", "kty": "EC", "crv": "P-192", "x": "AQ", "y": "AQ"}]),
            "curve",
        ),
    ],
)
def test_bad_runtime_data_is_malformed(runtime_data: bytes, match: str) -> None:
    hcl = HclReport.from_bytes(report(runtime_data))
    with pytest.raises(MalformedEvidence, match=match):
        hcl.ak_jwk().public_key()


@given(st.data())
def test_mutations_raise_only_malformed_evidence(data: st.DataObject) -> None:
    raw = bytearray(report())
    for _ in range(data.draw(st.integers(1, 3))):
        raw[data.draw(st.sampled_from([0, 0x4C8, 0x4CC, 0x4D0, 0x4D4, 0x4E0]))] ^= data.draw(
            st.integers(1, 255)
        )
    cut = data.draw(st.integers(0, len(raw)))
    try:
        HclReport.from_bytes(bytes(raw[:cut])).ak_jwk().public_key()
    except MalformedEvidence as exc:
        assert exc.field
