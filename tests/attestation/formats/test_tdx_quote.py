"""TDX quote parsing: the real vectors, round trips, padding, and every malformed shape."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from attestation.errors import MalformedEvidence
from attestation.formats.tdx import (
    CertificationData,
    EnclaveReport,
    QeReportCertificationData,
    QuoteHeader,
    QuoteSignatureData,
    TdReportBody,
    TdxQuote,
)
from tests.helpers.tdx import DCAP_MRTD, DCAP_REPORT_DATA, dcap_quote, simulator, spr_quote

SIM = simulator()


def test_dcapqvl_vector_parses(testvectors: Path) -> None:
    raw = dcap_quote(testvectors)
    quote = TdxQuote.from_bytes(raw)
    assert len(raw) == 5006
    assert quote.version == 4
    assert quote.header.tee_type == 0x81
    assert quote.body.mrtd.hex() == DCAP_MRTD
    assert quote.body.report_data.hex() == DCAP_REPORT_DATA
    assert quote.body.debug is False
    qe = quote.signature_data.qe
    assert qe.qe_report.isv_prod_id == 2
    assert qe.qe_auth_data == bytes(range(32))
    assert quote.signature_data.certification_data.type == 6
    assert qe.certification_data.type == 5
    assert qe.certification_data.pck_chain_pem is not None
    assert qe.certification_data.pck_chain_pem.count(b"BEGIN CERTIFICATE") == 3
    assert quote.trailing == bytes(70)  # zero padding after the signature data
    assert quote.signed_bytes == raw[:632]
    assert quote.to_bytes() == raw


def test_spr_vector_keeps_its_appended_text_as_trailing_bytes(testvectors: Path) -> None:
    raw = spr_quote(testvectors)
    quote = TdxQuote.from_bytes(raw)
    assert quote.body.mrtd.hex().startswith("6363b804")
    assert quote.trailing == b"\nextra bytes(only for testing purpose)\n"
    assert quote.to_bytes() == raw


@pytest.mark.parametrize("pad", [0, 1, 4096])
def test_configfs_zero_padding_is_ignored(testvectors: Path, pad: int) -> None:
    raw = dcap_quote(testvectors)
    trimmed = raw[: 636 + struct.unpack_from("<I", raw, 632)[0]]
    quote = TdxQuote.from_bytes(trimmed + bytes(pad))
    assert quote.trailing == bytes(pad)
    assert quote.signed_bytes == raw[:632]


@pytest.mark.parametrize(
    ("version", "tdx15", "signed"), [(4, False, 632), (5, False, 638), (5, True, 702)]
)
def test_simulated_versions_round_trip(version: int, tdx15: bool, signed: int) -> None:
    raw = SIM.quote(bytes(range(64)), version=version, tdx15=tdx15)
    quote = TdxQuote.from_bytes(raw)
    assert quote.version == version
    assert quote.body.body_type == (3 if tdx15 else 2)
    assert (quote.body.mrservicetd is not None) is tdx15
    assert len(quote.signed_bytes) == signed
    assert raw[:signed] == quote.signed_bytes
    assert quote.to_bytes() == raw


def _malformed(raw: bytes) -> MalformedEvidence:
    with pytest.raises(MalformedEvidence) as info:
        TdxQuote.from_bytes(raw)
    return info.value


def _put(raw: bytes, offset: int, fmt: str, value: int) -> bytes:
    out = bytearray(raw)
    struct.pack_into(fmt, out, offset, value)
    return bytes(out)


V4 = SIM.quote(bytes(64))
V5 = SIM.quote(bytes(64), version=5, tdx15=True)
SIG_SIZE = struct.unpack_from("<I", V4, 632)[0]
CERT = 636 + 128  # outer certification data (type u16, size u32)
AUTH = CERT + 6 + 384 + 64  # QE auth data size u16
NESTED = AUTH + 2 + 32  # nested certification data


@pytest.mark.parametrize(
    ("raw", "field", "offset"),
    [
        (_put(V4, 0, "<H", 3), "version", 0),
        (_put(V4, 0, "<H", 6), "version", 0),
        (_put(V4, 2, "<H", 3), "attestation_key_type", 2),
        (_put(V4, 4, "<I", 0), "tee_type", 4),
        (_put(V5, 48, "<H", 4), "body_type", 48),
        (_put(V5, 50, "<I", 584), "body_size", 50),
        (_put(V4, 632, "<I", SIG_SIZE + 1), "signature_data", 636),
        (_put(V4, 632, "<I", SIG_SIZE - 1), "certification_data.data", CERT + 6),
        (_put(V4, 632, "<I", 2**32 - 1), "signature_data", 636),
        (_put(V4, CERT, "<H", 5), "certification_data.type", CERT),
        (_put(V4, CERT, "<H", 9), "certification_data.type", CERT),
        (_put(V4, CERT + 2, "<I", 0), "qe_report", CERT + 6),
        (_put(V4, AUTH, "<H", 0xFFFF), "qe_auth_data", AUTH + 2),
        (_put(V4, NESTED, "<H", 0), "qe_certification_data.type", NESTED),
        (_put(V4, NESTED + 2, "<I", 10), "certification_data.data", NESTED + 16),
        (V4[:47], "user_data", 28),
        (V4[:600], "report_data", 568),
        (V4[:634], "signature_data_size", 632),
        (b"", "version", 0),
    ],
)
def test_malformed_quotes_name_field_and_offset(raw: bytes, field: str, offset: int) -> None:
    error = _malformed(raw)
    assert error.field == field
    assert error.offset == offset


def test_a_v4_quote_cannot_carry_a_tdx15_body() -> None:
    quote = TdxQuote.from_bytes(V5)
    with pytest.raises(MalformedEvidence, match=r"TDX 1\.0 body"):
        TdxQuote(
            QuoteHeader(4, 2, 0x81, 0, 0, bytes(16), bytes(20)),
            quote.body,
            quote.signature_data,
        )


@settings(max_examples=150, deadline=None)
@given(st.integers(min_value=0, max_value=len(V4) - 1))
def test_every_truncation_is_malformed(cut: int) -> None:
    error = _malformed(V4[:cut])
    assert error.field
    assert error.offset is not None and error.offset <= cut


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=1200))
def test_random_bytes_are_malformed_or_parse(data: bytes) -> None:
    try:
        quote = TdxQuote.from_bytes(data)
    except MalformedEvidence as error:
        assert str(error)
    else:
        assert quote.to_bytes() == data


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_mutated_quotes_are_malformed_or_parse(data: st.DataObject) -> None:
    raw = bytearray(data.draw(st.sampled_from([V4, V5])))
    for _ in range(data.draw(st.integers(1, 4))):
        raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    try:
        quote = TdxQuote.from_bytes(bytes(raw))
    except MalformedEvidence as error:
        assert error.field
    else:
        assert quote.to_bytes() == bytes(raw)


def _bytes(size: int) -> st.SearchStrategy[bytes]:
    return st.binary(min_size=size, max_size=size)


@st.composite
def quotes(draw: st.DrawFn) -> TdxQuote:
    version = draw(st.sampled_from([4, 5]))
    tdx15 = version == 5 and draw(st.booleans())
    body = TdReportBody(
        tee_tcb_svn=draw(_bytes(16)),
        mrseam=draw(_bytes(48)),
        mrsignerseam=draw(_bytes(48)),
        seam_attributes=draw(_bytes(8)),
        td_attributes=draw(_bytes(8)),
        xfam=draw(_bytes(8)),
        mrtd=draw(_bytes(48)),
        mrconfigid=draw(_bytes(48)),
        mrowner=draw(_bytes(48)),
        mrownerconfig=draw(_bytes(48)),
        rtmrs=(draw(_bytes(48)), draw(_bytes(48)), draw(_bytes(48)), draw(_bytes(48))),
        report_data=draw(_bytes(64)),
        tee_tcb_svn2=draw(_bytes(16)) if tdx15 else None,
        mrservicetd=draw(_bytes(48)) if tdx15 else None,
    )
    report = EnclaveReport.from_bytes(draw(_bytes(384)))
    nested = CertificationData(
        draw(st.integers(1, 7).filter(lambda t: t != 6)), draw(st.binary(max_size=300))
    )
    qe = QeReportCertificationData.build(
        report, draw(_bytes(64)), draw(st.binary(max_size=80)), nested
    )
    header = QuoteHeader(
        version=version,
        attestation_key_type=2,
        tee_type=0x81,
        qe_svn=draw(st.integers(0, 0xFFFF)),
        pce_svn=draw(st.integers(0, 0xFFFF)),
        qe_vendor_id=draw(_bytes(16)),
        user_data=draw(_bytes(20)),
    )
    signature = QuoteSignatureData(
        draw(_bytes(64)), draw(_bytes(64)), CertificationData.qe_report(qe)
    )
    return TdxQuote(header, body, signature, draw(st.binary(max_size=40)))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(quotes())
def test_built_quotes_round_trip(quote: TdxQuote) -> None:
    raw = quote.to_bytes()
    assert TdxQuote.from_bytes(raw) == quote
    assert raw.startswith(quote.signed_bytes)


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: EnclaveReport.from_bytes(bytes(383)), "qe_report.report_data"),
        (lambda: EnclaveReport.from_bytes(bytes(385)), "qe_report"),
        (lambda: CertificationData(6, b""), "certification_data.type"),
        (lambda: CertificationData(0, b""), "certification_data.type"),
        (
            lambda: QuoteSignatureData(bytes(64), bytes(64), CertificationData(5, b"x")),
            "certification_data.type",
        ),
        (
            lambda: QuoteSignatureData(
                bytes(63), bytes(64), TdxQuote.from_bytes(V4).signature_data.certification_data
            ),
            "quote_signature",
        ),
    ],
)
def test_constructors_check_their_invariants(build: object, field: str) -> None:
    with pytest.raises(MalformedEvidence) as info:
        build()  # type: ignore[operator]
    assert info.value.field == field
