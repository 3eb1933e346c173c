"""AMD endorsement-key certificates: loading, and the AMD extensions read and written."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from hypothesis import given
from hypothesis import strategies as st

from attestation.errors import MalformedEvidence
from attestation.formats.snp import SnpReport
from attestation.formats.snp_certs import (
    OID_HWID,
    OID_PRODUCT_NAME,
    OID_STRUCT_VERSION,
    SPL_OIDS,
    EndorsementExtensions,
    load_certificate,
    signature_algorithms,
)

_KEY = ec.generate_private_key(ec.SECP256R1())  # cheap signer for built certificates
_NAME = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test")])


def build(extensions: list[x509.UnrecognizedExtension]) -> x509.Certificate:
    now = datetime(2025, 1, 1, tzinfo=UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_NAME)
        .issuer_name(_NAME)
        .public_key(_KEY.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=1))
    )
    for extension in extensions:
        builder = builder.add_extension(extension, critical=False)
    return builder.sign(_KEY, hashes.SHA256())


MILAN = EndorsementExtensions(
    struct_version=0,
    product_name="Milan-B0",
    spls={"bootloader": 3, "tee": 0, "snp": 8, "microcode": 115},
    hwid=bytes(range(64)),
)


@pytest.mark.parametrize("name", ["milan-v2", "milan-v2-debug", "genoa-v5"])
def test_vector_extensions_match_their_reports(testvectors: Path, name: str) -> None:
    der = (testvectors / "snp" / f"{name}.vcek.der").read_bytes()
    report = SnpReport.from_bytes((testvectors / "snp" / f"{name}.report.bin").read_bytes())
    cert = load_certificate(der, "vcek")
    ext = EndorsementExtensions.from_certificate(cert)
    assert ext.product == ("genoa" if name.startswith("genoa") else "milan")
    assert ext.tcb(ext.product).raw() == report.reported_tcb
    assert ext.hwid == report.chip_id
    assert ext.csp_id is None
    original = {e.oid: e.value.value for e in cert.extensions}  # type: ignore[attr-defined]
    for rebuilt in ext.to_extensions():
        assert original[rebuilt.oid] == rebuilt.value


def test_load_certificate_names_the_field() -> None:
    with pytest.raises(MalformedEvidence) as caught:
        load_certificate(b"\x30\x03\x02\x01\x00", "certificates.vcek")
    assert caught.value.field == "certificates.vcek"
    with pytest.raises(MalformedEvidence):
        load_certificate(b"", "certificates.vcek")


def test_round_trip_through_a_certificate() -> None:
    parsed = EndorsementExtensions.from_certificate(build(MILAN.to_extensions()))
    assert parsed == MILAN
    assert parsed.tcb("milan").raw() == 0x7308000000000003


def test_turin_hwid_and_fmc() -> None:
    turin = EndorsementExtensions(
        struct_version=1,
        product_name="Turin-B0",
        spls={"fmc": 1, "bootloader": 2, "tee": 3, "snp": 4, "microcode": 5},
        hwid=bytes(8),
    )
    parsed = EndorsementExtensions.from_certificate(build(turin.to_extensions()))
    assert parsed.hwid == bytes(8)
    assert parsed.tcb("turin").parts()["fmc"] == 1
    spls = {name: value for name, value in turin.spls.items() if name != "fmc"}
    no_fmc = EndorsementExtensions(1, "Turin-B0", spls)
    with pytest.raises(MalformedEvidence, match="FMC"):
        no_fmc.tcb("turin")
    with pytest.raises(MalformedEvidence, match="not part of the Milan"):
        turin.tcb("milan")


def test_hwid_in_an_octet_string_is_accepted() -> None:
    wrapped = [e for e in MILAN.to_extensions() if e.oid != OID_HWID]
    wrapped.append(x509.UnrecognizedExtension(OID_HWID, b"\x04\x40" + bytes(range(64))))
    assert EndorsementExtensions.from_certificate(build(wrapped)).hwid == bytes(range(64))


@pytest.mark.parametrize(
    ("oid", "value", "field"),
    [
        (SPL_OIDS["snp"], b"\x02\x02\x01\x00", "certificate.snp"),  # 256
        (SPL_OIDS["snp"], b"\x02\x01\xff", "certificate.snp"),  # -1
        (SPL_OIDS["snp"], b"\x04\x01\x01", "certificate.snp"),  # not an INTEGER
        (OID_PRODUCT_NAME, b"\x16\x02\xc3\xa9", "certificate.product_name"),
        (OID_HWID, bytes(63), "certificate.hwid"),
    ],
)
def test_malformed_extension_values(oid: x509.ObjectIdentifier, value: bytes, field: str) -> None:
    extensions = [e for e in MILAN.to_extensions() if e.oid != oid]
    extensions.append(x509.UnrecognizedExtension(oid, value))
    with pytest.raises(MalformedEvidence) as caught:
        EndorsementExtensions.from_certificate(build(extensions))
    assert caught.value.field == field


def test_missing_extensions() -> None:
    with pytest.raises(MalformedEvidence, match="not an AMD endorsement key"):
        EndorsementExtensions.from_certificate(build([]))
    without_snp = [e for e in MILAN.to_extensions() if e.oid != SPL_OIDS["snp"]]
    with pytest.raises(MalformedEvidence, match="snp") as caught:
        EndorsementExtensions.from_certificate(build(without_snp))
    assert caught.value.field == "certificate.tcb"


def test_signature_algorithms_outer_and_inner(testvectors: Path) -> None:
    cert = load_certificate((testvectors / "snp" / "milan-v2.vcek.der").read_bytes(), "vcek")
    outer, inner = signature_algorithms(cert)
    assert outer == inner
    assert outer.startswith(bytes.fromhex("3046 0609 2a864886f70d01010a"))


_AMD_OIDS = [OID_STRUCT_VERSION, OID_PRODUCT_NAME, OID_HWID, *SPL_OIDS.values()]


@given(st.dictionaries(st.sampled_from(_AMD_OIDS), st.binary(max_size=80), max_size=12))
def test_arbitrary_extension_values_parse_or_fail_by_name(
    values: dict[x509.ObjectIdentifier, bytes],
) -> None:
    cert = build([x509.UnrecognizedExtension(oid, value) for oid, value in values.items()])
    try:
        parsed = EndorsementExtensions.from_certificate(cert)
    except MalformedEvidence as exc:
        assert exc.field
    else:
        assert set(parsed.spls) <= set(SPL_OIDS)


@given(st.binary(max_size=600))
def test_arbitrary_certificate_bytes_load_or_fail_by_name(data: bytes) -> None:
    try:
        cert = load_certificate(data, "certificates.vcek")
    except MalformedEvidence as exc:
        assert exc.field == "certificates.vcek"
    else:
        outer, inner = signature_algorithms(cert)
        assert outer[0] == inner[0] == 0x30
