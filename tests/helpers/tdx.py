"""Shared helpers for the TDX tests: the real vectors, their collateral, a simulator."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from attestation.evidence import Evidence
from attestation.formats.tdx import TdxQuote
from attestation.simulated.tdx import SimulatedTdx, SimulatedTdxConfig
from verifier.collateral import StaticCollateral, TdxCollateral, load_bundle_file

DCAP_TIME = datetime(2025, 7, 1, tzinfo=UTC)
SPR_TIME = datetime(2023, 7, 1, tzinfo=UTC)
SIM_TIME = datetime(2026, 1, 1, tzinfo=UTC)

DCAP_MRTD = (
    "91eb2b44d141d4ece09f0c75c2c53d247a3c68edd7fafe8a"
    "3520c942a604a407de03ae6dc5f87f27428b2538873118b7"
)
DCAP_REPORT_DATA = (
    "9a9d48e7f6799642d3d1b34e1e5e1742d4bb02dd6ddd551862c1211d35c304f9"
    "eca3efdbb481601c163cf52493d6e44aed55d51ec39b7e518fadb92c2b523f20"
)
SPR_MRTD_PREFIX = "6363b804"
SPR_MRTD_SUFFIX = "5cbb"


def evidence_for(quote: bytes, **kwargs: object) -> Evidence:
    """Evidence whose report_data is the quote's own REPORTDATA."""
    report_data = TdxQuote.from_bytes(quote).body.report_data
    return Evidence(
        platform="tdx", report=quote, report_data=report_data, provider="test", **kwargs
    )


def dcap_quote(vectors: Path) -> bytes:
    return (vectors / "tdx" / "dcapqvl-v4.quote.bin").read_bytes()


def dcap_collateral(vectors: Path) -> StaticCollateral:
    return load_bundle_file(vectors / "tdx" / "dcapqvl-v4.collateral.json")


def spr_quote(vectors: Path) -> bytes:
    return (vectors / "tdx" / "spr-e4-v4.quote.bin").read_bytes()


def spr_collateral(vectors: Path) -> TdxCollateral:
    tdx = vectors / "tdx"
    return TdxCollateral.from_pcs_responses(
        tcb_info_response=(tdx / "spr-e4-v4.pcs-tcbinfo.json").read_bytes(),
        tcb_info_issuer_chain=(tdx / "spr-e4-v4.pcs-tcbinfo-issuer-chain.pem").read_bytes(),
        qe_identity_response=(tdx / "spr-e4-v4.pcs-qeidentity.json").read_bytes(),
        qe_identity_issuer_chain=None,
        pck_crl=(tdx / "spr-e4-v4.pcs-pckcrl.der").read_bytes(),
        pck_crl_issuer_chain=(tdx / "spr-e4-v4.pcs-pckcrl-issuer-chain.pem").read_bytes(),
        root_ca_crl=(tdx / "spr-e4-v4.rootcrl.der").read_bytes(),
        origin="spr-e4 PCS responses",
    )


def flip(data: bytes, position: int, mask: int = 0x01) -> bytes:
    changed = bytearray(data)
    changed[position] ^= mask
    return bytes(changed)


def simulator(**config: object) -> SimulatedTdx:
    return SimulatedTdx.create(now=SIM_TIME, config=SimulatedTdxConfig(**config))
