"""TDREPORTs, PCK certificate SGX extensions and the small DER codec behind them."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography import x509
from hypothesis import given, settings
from hypothesis import strategies as st

from attestation.errors import MalformedEvidence
from attestation.formats import der
from attestation.formats.tdx import (
    SGX_EXTENSIONS_OID,
    PckExtensions,
    TdReport,
    TdxQuote,
    is_tdreport,
)
from tests.helpers.tdx import dcap_quote, simulator, spr_quote

SIM = simulator(debug=True)


def test_tdreport_round_trips_and_carries_the_td() -> None:
    raw = SIM.tdreport(bytes(range(64)))
    report = TdReport.from_bytes(raw)
    assert len(raw) == 1024
    assert is_tdreport(raw)
    assert report.report_data == bytes(range(64))
    assert report.td_info.mrtd == SIM.config.mrtd
    assert report.td_info.debug is True
    assert report.tee_tcb_info.tee_tcb_svn == SIM.config.tee_tcb_svn
    assert report.to_bytes() == raw


def test_quotes_are_not_tdreports() -> None:
    assert not is_tdreport(SIM.quote(bytes(64)))


@pytest.mark.parametrize(
    ("raw", "field"),
    [(bytes(1023), "tdreport"), (bytes(1024), "report_type"), (b"\x81" + bytes(1024), "tdreport")],
)
def test_malformed_tdreports(raw: bytes, field: str) -> None:
    with pytest.raises(MalformedEvidence) as info:
        TdReport.from_bytes(raw)
    assert info.value.field == field


def _pck_extension(quote: bytes) -> bytes:
    pem = TdxQuote.from_bytes(quote).signature_data.qe.certification_data.pck_chain_pem
    assert pem is not None
    leaf = x509.load_pem_x509_certificates(pem)[0]
    ext = leaf.extensions.get_extension_for_oid(x509.ObjectIdentifier(SGX_EXTENSIONS_OID))
    assert isinstance(ext.value, x509.UnrecognizedExtension)
    return ext.value.value


@pytest.mark.parametrize(
    ("which", "fmspc", "components"),
    [
        ("dcap", "b0c06f000000", (3, 3, 2, 2, 4, 1, 0, 5)),
        ("spr", "50806f000000", (3, 3, 2, 2, 2, 1, 0, 2)),
    ],
)
def test_real_pck_extensions(
    testvectors: Path, which: str, fmspc: str, components: tuple[int, ...]
) -> None:
    quote = dcap_quote(testvectors) if which == "dcap" else spr_quote(testvectors)
    value = _pck_extension(quote)
    ext = PckExtensions.from_der(value)
    assert ext.fmspc.hex() == fmspc
    assert ext.pce_id == bytes(2)
    assert ext.pce_svn == 11
    assert ext.tcb_components[:8] == components
    assert ext.cpu_svn == bytes(ext.tcb_components)
    assert ext.sgx_type == 1
    assert ext.platform_instance_id is not None
    assert ext.to_der() == value  # every field understood: it re-encodes byte for byte


@settings(max_examples=100, deadline=None)
@given(
    components=st.tuples(*[st.integers(0, 255)] * 16),
    pce_svn=st.integers(0, 0xFFFF),
    fmspc=st.binary(min_size=6, max_size=6),
    sgx_type=st.integers(0, 2),
    instance=st.none() | st.binary(min_size=16, max_size=16),
    flags=st.tuples(
        st.none() | st.booleans(), st.none() | st.booleans(), st.none() | st.booleans()
    ),
)
def test_pck_extensions_round_trip(
    components: tuple[int, ...],
    pce_svn: int,
    fmspc: bytes,
    sgx_type: int,
    instance: bytes | None,
    flags: tuple[bool | None, bool | None, bool | None],
) -> None:
    ext = PckExtensions(
        ppid=bytes(16),
        tcb_components=components,
        pce_svn=pce_svn,
        cpu_svn=bytes(components),
        pce_id=b"\x00\x01",
        fmspc=fmspc,
        sgx_type=sgx_type,
        platform_instance_id=instance,
        dynamic_platform=flags[0],
        cached_keys=flags[1],
        smt_enabled=flags[2],
    )
    assert PckExtensions.from_der(ext.to_der()) == ext


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_damaged_pck_extensions_are_malformed_or_parse(data: st.DataObject) -> None:
    value = bytearray(
        SIM.pki.pck.cert.extensions.get_extension_for_oid(
            x509.ObjectIdentifier(SGX_EXTENSIONS_OID)
        ).value.value
    )  # type: ignore[attr-defined]
    value[data.draw(st.integers(0, len(value) - 1))] ^= data.draw(st.integers(1, 255))
    try:
        PckExtensions.from_der(bytes(value))
    except MalformedEvidence as error:
        assert error.field and error.field.startswith("pck")


def test_missing_pck_fields_are_named() -> None:
    with pytest.raises(MalformedEvidence, match="missing"):
        PckExtensions.from_der(der.sequence())
    with pytest.raises(MalformedEvidence) as info:
        PckExtensions.from_der(b"\x30\x05")
    assert info.value.field == "pck.sgx_extensions"


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 2**40), min_size=1, max_size=8), st.integers(0, 2**64))
def test_der_oid_and_integer_round_trip(arcs: list[int], number: int) -> None:
    dotted = ".".join(map(str, [1, 2, *arcs]))
    tag, value, _ = der.read_tlv(der.encode_oid(dotted), 0, "oid")
    assert (tag, der.decode_oid(value, "oid")) == (der.OID, dotted)
    tag, value, _ = der.read_tlv(der.encode_uint(number), 0, "int")
    assert der.decode_uint(value, "int") == number
    long = der.tlv(der.OCTET_STRING, bytes(300))
    assert der.read_all(long, "long") == [(der.OCTET_STRING, bytes(300))]


@pytest.mark.parametrize(
    "data",
    [b"\x04", b"\x04\x05abc", b"\x04\x81\x05abcde", b"\x04\x85\x00\x00\x00\x00\x01a", b"\x04\x80"],
)
def test_der_rejects_bad_lengths(data: bytes) -> None:
    with pytest.raises(MalformedEvidence):
        der.read_all(data, "x")
