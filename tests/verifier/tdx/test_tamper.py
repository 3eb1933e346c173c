"""Flip one byte anywhere that matters and verification must fail with the right named error.

Regions of a real v4 quote: the signed region (header + TD body), the quote signature,
the attestation key, the QE report, its signature, the QE auth data, the PCK certificate
PEM; and of its collateral: the TCB info and QE identity JSON, and their signatures.
Positions are walked exhaustively where checks are cheap and with a stride inside the
large PEM and JSON texts (every region is still covered from its first to its last byte).
"""

from __future__ import annotations

import struct
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attestation.errors import MalformedEvidence
from attestation.evidence import Evidence
from tests.helpers.tdx import DCAP_TIME, SIM_TIME, dcap_collateral, dcap_quote, flip, simulator
from verifier.collateral import CollateralInvalid, NoCollateral, StaticCollateral, TdxCollateral
from verifier.errors import (
    BindingMismatch,
    CertificateChainInvalid,
    EvidenceSignatureInvalid,
    VerifierError,
)
from verifier.tdx import verify_tdx
from verifier.tdx.collateral_checks import verify_collateral
from verifier.trust import TrustedRoots

INTEL = TrustedRoots.shipped("intel-sgx")
SIG = 636  # signature data starts after the 4-byte size field
AK = SIG + 64
CERT = AK + 64
QE_REPORT = CERT + 6
QE_SIG = QE_REPORT + 384
AUTH = QE_SIG + 64 + 2  # after the u16 size; the vector's auth data is 32 bytes
PEM = AUTH + 32 + 6


@pytest.fixture(scope="module")
def quote(testvectors: Path) -> bytes:
    return dcap_quote(testvectors)


@pytest.fixture(scope="module")
def collateral(testvectors: Path) -> StaticCollateral:
    return dcap_collateral(testvectors)


def _error(raw: bytes, original: bytes, collateral: StaticCollateral) -> Exception:
    evidence = Evidence(
        platform="tdx", report=raw, report_data=original[568:632], provider="tamper"
    )
    with pytest.raises((VerifierError, MalformedEvidence)) as info:
        verify_tdx(evidence, roots=INTEL, now=DCAP_TIME, collateral=collateral)
    return info.value


def _walk(quote: bytes, collateral: StaticCollateral, positions: range) -> dict[int, Exception]:
    return {p: _error(flip(quote, p), quote, collateral) for p in positions}


def test_the_untouched_quote_verifies(quote: bytes, collateral: StaticCollateral) -> None:
    evidence = Evidence(platform="tdx", report=quote, report_data=quote[568:632], provider="t")
    assert verify_tdx(evidence, roots=INTEL, now=DCAP_TIME, collateral=collateral).tcb["status"]


def test_every_byte_of_the_signed_region(quote: bytes, collateral: StaticCollateral) -> None:
    for position, error in _walk(quote, collateral, range(632)).items():
        if position < 8:  # version, attestation key type, TEE type
            assert isinstance(error, MalformedEvidence), position
        else:
            assert isinstance(error, EvidenceSignatureInvalid), (position, error)
            assert error.check == "tdx.quote-signature"


def test_every_byte_of_the_signature_and_attestation_key(
    quote: bytes, collateral: StaticCollateral
) -> None:
    for position, error in _walk(quote, collateral, range(SIG, CERT)).items():
        assert isinstance(error, EvidenceSignatureInvalid), position
        assert error.check == "tdx.quote-signature"


def test_every_byte_of_the_qe_report_and_its_signature(
    quote: bytes, collateral: StaticCollateral
) -> None:
    for position, error in _walk(quote, collateral, range(QE_REPORT, QE_SIG + 64)).items():
        assert isinstance(error, EvidenceSignatureInvalid), position
        assert error.check == "tdx.qe-report-signature"


def test_every_byte_of_the_qe_auth_data(quote: bytes, collateral: StaticCollateral) -> None:
    for position, error in _walk(quote, collateral, range(AUTH, AUTH + 32)).items():
        assert isinstance(error, BindingMismatch), position
        assert error.check == "tdx.ak-binding"


def test_the_pck_certificates(quote: bytes, collateral: StaticCollateral) -> None:
    size = struct.unpack_from("<I", quote, PEM - 4)[0]
    pem = quote[PEM : PEM + size]
    assert pem.startswith(b"-----BEGIN CERTIFICATE-----")
    newlines = {PEM + i for i, byte in enumerate(pem) if byte in b"\n\x00"}
    positions = [p for p in range(PEM, PEM + size, 3) if p not in newlines]
    positions += [PEM + size - 2]  # the last byte of the last certificate
    for position in positions:
        error = _error(flip(quote, position), quote, collateral)
        assert isinstance(error, MalformedEvidence | CertificateChainInvalid), (position, error)
        if isinstance(error, MalformedEvidence):
            assert error.field in ("pck_chain", "pck.sgx_extensions") or error.field.startswith(
                "pck"
            )
        else:
            assert error.check == "tdx.pck-chain"


def _tdx(collateral: StaticCollateral) -> TdxCollateral:
    (found,) = collateral.tdx
    return found


def _collateral_error(changed: TdxCollateral, quote: bytes) -> Exception:
    evidence = Evidence(platform="tdx", report=quote, report_data=quote[568:632], provider="t")
    with pytest.raises(VerifierError) as info:
        verify_tdx(evidence, roots=INTEL, now=DCAP_TIME, collateral=StaticCollateral(tdx=[changed]))
    return info.value


@pytest.mark.parametrize("field", ["tcb_info", "qe_identity"])
def test_the_signed_collateral_json(field: str, quote: bytes, collateral: StaticCollateral) -> None:
    original = _tdx(collateral)
    anchor = INTEL.anchors[0]
    raw: bytes = getattr(original, field)
    positions = [*range(0, len(raw), 7), len(raw) - 1]
    check = "tdx.tcb-info-signature" if field == "tcb_info" else "tdx.qe-identity-signature"
    for position in positions:
        changed = replace(original, **{field: flip(raw, position)})
        with pytest.raises(CollateralInvalid) as info:
            verify_collateral(changed, anchor=anchor, now=DCAP_TIME)
        assert info.value.check == check, position
    error = _collateral_error(replace(original, **{field: flip(raw, len(raw) // 2)}), quote)
    assert isinstance(error, CollateralInvalid) and error.check == check


@pytest.mark.parametrize("field", ["tcb_info_signature", "qe_identity_signature"])
def test_the_collateral_signatures(field: str, collateral: StaticCollateral) -> None:
    original = _tdx(collateral)
    for position in range(64):
        changed = replace(original, **{field: flip(getattr(original, field), position)})
        with pytest.raises(CollateralInvalid):
            verify_collateral(changed, anchor=INTEL.anchors[0], now=DCAP_TIME)


@pytest.mark.parametrize("field", ["pck_crl", "root_ca_crl"])
def test_the_crls(field: str, quote: bytes, collateral: StaticCollateral) -> None:
    original = _tdx(collateral)
    raw: bytes = getattr(original, field)
    for position in [*range(0, len(raw), max(1, len(raw) // 40)), len(raw) - 1]:
        error = _collateral_error(replace(original, **{field: flip(raw, position)}), quote)
        assert isinstance(error, CollateralInvalid | CertificateChainInvalid), (position, error)
        assert error.check == "tdx.crl"


SIM = simulator()
SIM_ROOTS = TrustedRoots.from_certificates([SIM.pki.root.cert])
V5 = SIM.quote(bytes(64), version=5, tdx15=True)
SIM_COLLATERAL = SIM.collateral(SIM_TIME)


def test_every_byte_of_a_v5_signed_region() -> None:
    for position in range(702):
        evidence = Evidence(
            platform="tdx",
            report=flip(V5, position),
            report_data=bytes(64),
            provider="t",
            collateral=SIM_COLLATERAL,
        )
        with pytest.raises((EvidenceSignatureInvalid, MalformedEvidence)) as info:
            verify_tdx(evidence, roots=SIM_ROOTS, now=SIM_TIME, collateral=NoCollateral())
        if isinstance(info.value, MalformedEvidence):
            assert position < 8 or 48 <= position < 54, position  # header ids, body type/size


V4 = SIM.quote(bytes(64))


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_any_damage_is_a_named_error(data: st.DataObject) -> None:
    raw = bytearray(V4)
    positions = data.draw(st.lists(st.integers(0, len(raw) - 1), min_size=1, max_size=3))
    for position in positions:
        raw[position] ^= data.draw(st.integers(1, 255))
    evidence = Evidence(
        platform="tdx",
        report=bytes(raw),
        report_data=bytes(64),
        provider="t",
        collateral=SIM_COLLATERAL,
    )
    try:
        verify_tdx(evidence, roots=SIM_ROOTS, now=SIM_TIME, collateral=NoCollateral())
    except (VerifierError, MalformedEvidence) as error:
        assert str(error)
    else:  # only line breaks between PEM lines may change (to other line breaks) unnoticed
        assert all(V4[p] in b"\r\n" and raw[p] in b"\r\n" for p in positions if raw[p] != V4[p])
