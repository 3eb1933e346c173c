"""SnpReport: the real vectors parse to the documented fields; bad bytes fail by name."""

from __future__ import annotations

import struct
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from attestation.errors import MalformedEvidence
from attestation.formats.snp import (
    REPORT_SIZE,
    SIGNATURE_OFFSET,
    FirmwareVersion,
    SigningKey,
    SnpReport,
)


def read(testvectors: Path, name: str) -> bytes:
    return (testvectors / "snp" / f"{name}.report.bin").read_bytes()


def test_milan_v2_debug_fields(testvectors: Path) -> None:
    report = SnpReport.from_bytes(read(testvectors, "milan-v2-debug"))
    assert report.version == 2
    assert report.policy == 0xB0000
    assert report.debug is True
    assert report.report_data == bytes.fromhex("0102030405") + bytes(59)
    assert report.measurement.hex().startswith("b07af962")
    assert report.measurement.hex().endswith("2b01")
    assert report.signing_key is SigningKey.VCEK
    assert (report.cpuid_fam_id, report.launch_mit_vector) == (None, None)
    assert report.cpuid_product is None


def test_milan_v2_fields(testvectors: Path) -> None:
    report = SnpReport.from_bytes(read(testvectors, "milan-v2"))
    assert (report.version, report.policy, report.debug) == (2, 0x30000, False)
    assert report.measurement.hex().startswith("7a1e5c26")
    assert report.measurement.hex().endswith("841f")
    assert report.vmpl == 0
    assert report.reported_tcb == 0x7308000000000003
    assert report.current_version == FirmwareVersion(1, 52, 4)


def test_genoa_v5_fields(testvectors: Path) -> None:
    report = SnpReport.from_bytes(read(testvectors, "genoa-v5"))
    assert (report.version, report.policy, report.debug) == (5, 0x30000, False)
    assert report.report_data.hex().startswith("8100555a")
    assert report.report_data[:32].hex().endswith("57ce")
    assert report.report_data[32:] == bytes(32)
    assert report.measurement.hex().startswith("c5772901")
    assert report.measurement.hex().endswith("c4dc")
    assert (report.cpuid_fam_id, report.cpuid_mod_id, report.cpuid_step) == (0x19, 0x11, 1)
    assert report.cpuid_product == "genoa"
    assert (report.launch_mit_vector, report.current_mit_vector) == (1, 1)
    assert str(report.current_version) == "1.55.43"


@pytest.mark.parametrize("name", ["milan-v2", "milan-v2-debug", "genoa-v5"])
def test_vectors_round_trip_byte_exact(testvectors: Path, name: str) -> None:
    raw = read(testvectors, name)
    report = SnpReport.from_bytes(raw)
    assert report.to_bytes() == raw
    assert report.signed_bytes() == raw[:SIGNATURE_OFFSET]
    assert report.signature_bytes() == raw[SIGNATURE_OFFSET:]


def test_truncated_and_oversized(testvectors: Path) -> None:
    raw = read(testvectors, "milan-v2")
    with pytest.raises(MalformedEvidence, match="truncated") as short:
        SnpReport.from_bytes(raw[:-1])
    assert (short.value.field, short.value.offset) == ("report", REPORT_SIZE - 1)
    with pytest.raises(MalformedEvidence, match="oversized") as long:
        SnpReport.from_bytes(raw + b"\x00")
    assert long.value.field == "report"


def patched(raw: bytes, offset: int, value: bytes) -> bytes:
    return raw[:offset] + value + raw[offset + len(value) :]


@pytest.mark.parametrize(
    ("offset", "value", "field"),
    [
        (0x000, struct.pack("<I", 1), "version"),
        (0x000, struct.pack("<I", 6), "version"),
        (0x034, struct.pack("<I", 2), "signature_algo"),
        (0x008, struct.pack("<Q", 0x10000), "policy"),
        (0x048, struct.pack("<I", 1 << 5), "signer_info"),
        (0x048, struct.pack("<I", 2 << 2), "signer_info"),
        (0x04C, b"\x01", "reserved after SIGNER_INFO"),
        (0x188, b"\x19", "reserved before CHIP_ID"),  # CPUID is reserved in version 2
        (0x1EB, b"\x01", "reserved after CURRENT_MAJOR"),
        (0x1EF, b"\x01", "reserved after COMMITTED_MAJOR"),
        (0x1F8, b"\x01", "reserved before SIGNATURE"),  # mitigation vector, v5 only
        (0x29F, b"\x01", "reserved before SIGNATURE"),
        (SIGNATURE_OFFSET + 48, b"\x01", "signature.r (high bytes)"),
        (SIGNATURE_OFFSET + 72 + 71, b"\x01", "signature.s (high bytes)"),
        (REPORT_SIZE - 1, b"\x01", "signature (reserved)"),
    ],
)
def test_bad_fields_are_named(testvectors: Path, offset: int, value: bytes, field: str) -> None:
    raw = patched(read(testvectors, "milan-v2"), offset, value)
    with pytest.raises(MalformedEvidence) as caught:
        SnpReport.from_bytes(raw)
    assert caught.value.field == field
    assert caught.value.offset is not None
    assert offset <= caught.value.offset < offset + len(value)


def test_v5_reserved_tail_and_mitigation_vectors(testvectors: Path) -> None:
    raw = read(testvectors, "genoa-v5")
    assert SnpReport.from_bytes(patched(raw, 0x200, struct.pack("<Q", 7))).current_mit_vector == 7
    with pytest.raises(MalformedEvidence) as caught:
        SnpReport.from_bytes(patched(raw, 0x208, b"\x01"))
    assert (caught.value.field, caught.value.offset) == ("reserved before SIGNATURE", 0x208)
    with pytest.raises(MalformedEvidence) as cpuid:
        SnpReport.from_bytes(patched(raw, 0x18B, b"\x01"))
    assert cpuid.value.offset == 0x18B


def test_version_4_parses_with_the_version_3_layout(testvectors: Path) -> None:
    raw = patched(read(testvectors, "genoa-v5"), 0, struct.pack("<I", 4))
    with pytest.raises(MalformedEvidence):  # mitigation vectors are reserved before v5
        SnpReport.from_bytes(raw)
    report = SnpReport.from_bytes(patched(raw, 0x1F8, bytes(16)))
    assert (report.version, report.cpuid_product, report.launch_mit_vector) == (4, "genoa", None)


def test_signer_info_bits(testvectors: Path) -> None:
    raw = patched(read(testvectors, "milan-v2"), 0x048, struct.pack("<I", 0b00111))
    report = SnpReport.from_bytes(raw)
    assert (report.author_key_en, report.mask_chip_key) == (True, True)
    assert report.signing_key is SigningKey.VLEK
    assert report.signer_info == 0b00111
    assert report.to_bytes() == raw
    none = SnpReport.from_bytes(patched(raw, 0x048, struct.pack("<I", 7 << 2)))
    assert none.signing_key is SigningKey.NONE


def test_construction_checks_fields(testvectors: Path) -> None:
    report = SnpReport.from_bytes(read(testvectors, "genoa-v5"))
    with pytest.raises(MalformedEvidence) as short:
        replace(report, measurement=bytes(47))
    assert (short.value.field, short.value.offset) == ("measurement", 0x90)
    with pytest.raises(MalformedEvidence, match="from version 3"):
        replace(report, version=2)
    with pytest.raises(MalformedEvidence) as vmpl:
        replace(report, vmpl=1 << 32)
    assert vmpl.value.field == "vmpl"
    with pytest.raises(MalformedEvidence):
        replace(report, signature_r=1 << 384)
    with pytest.raises(MalformedEvidence):
        replace(report, launch_mit_vector=None)


# -- properties ---------------------------------------------------------------------


@given(st.binary(max_size=2 * REPORT_SIZE))
@example(bytes(REPORT_SIZE))
def test_arbitrary_bytes_parse_or_fail_by_name(data: bytes) -> None:
    try:
        report = SnpReport.from_bytes(data)
    except MalformedEvidence as exc:
        assert exc.field
    else:
        assert report.to_bytes() == data


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=300)
@given(edits=st.lists(st.tuples(st.integers(0, REPORT_SIZE - 1), st.integers(0, 255)), max_size=8))
def test_edited_vectors_parse_or_fail_by_name(
    testvectors: Path, edits: list[tuple[int, int]]
) -> None:
    raw = bytearray(read(testvectors, "genoa-v5"))
    for offset, value in edits:
        raw[offset] = value
    try:
        report = SnpReport.from_bytes(bytes(raw))
    except MalformedEvidence as exc:
        assert exc.field and exc.offset is not None
    else:
        assert report.to_bytes() == bytes(raw)


def _bytes(size: int) -> st.SearchStrategy[bytes]:
    return st.binary(min_size=size, max_size=size)


u8, u32, u64 = st.integers(0, 0xFF), st.integers(0, 2**32 - 1), st.integers(0, 2**64 - 1)


@st.composite
def reports(draw: st.DrawFn) -> SnpReport:
    version = draw(st.sampled_from([2, 3, 4, 5]))
    cpuid = draw(st.tuples(u8, u8, u8)) if version >= 3 else (None, None, None)
    mit = (draw(u64), draw(u64)) if version >= 5 else (None, None)
    firmware = st.builds(FirmwareVersion, u8, u8, u8)
    return SnpReport(
        version=version,
        guest_svn=draw(u32),
        policy=draw(u64) | 1 << 17,
        family_id=draw(_bytes(16)),
        image_id=draw(_bytes(16)),
        vmpl=draw(u32),
        signature_algo=1,
        current_tcb=draw(u64),
        platform_info=draw(u64),
        author_key_en=draw(st.booleans()),
        mask_chip_key=draw(st.booleans()),
        signing_key=draw(st.sampled_from(SigningKey)),
        report_data=draw(_bytes(64)),
        measurement=draw(_bytes(48)),
        host_data=draw(_bytes(32)),
        id_key_digest=draw(_bytes(48)),
        author_key_digest=draw(_bytes(48)),
        report_id=draw(_bytes(32)),
        report_id_ma=draw(_bytes(32)),
        reported_tcb=draw(u64),
        cpuid_fam_id=cpuid[0],
        cpuid_mod_id=cpuid[1],
        cpuid_step=cpuid[2],
        chip_id=draw(_bytes(64)),
        committed_tcb=draw(u64),
        current_version=draw(firmware),
        committed_version=draw(firmware),
        launch_tcb=draw(u64),
        launch_mit_vector=mit[0],
        current_mit_vector=mit[1],
        signature_r=draw(st.integers(0, 2**384 - 1)),
        signature_s=draw(st.integers(0, 2**384 - 1)),
    )


@given(reports())
def test_built_reports_round_trip(report: SnpReport) -> None:
    raw = report.to_bytes()
    assert len(raw) == REPORT_SIZE
    assert SnpReport.from_bytes(raw) == report
