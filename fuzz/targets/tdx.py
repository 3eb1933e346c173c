"""Intel TDX: quotes v4/v5 (with their signature data), TDREPORTs, PCK SGX extensions, and
the collateral JSON of Intel's PCS (TCB info, QE identity)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from typing import TYPE_CHECKING

from attestation.formats.tdx import PckExtensions, TdReport, TdxQuote, is_tdreport
from fuzz.contract import Context, ContractViolation, Target, join_parts, split_parts
from fuzz.targets import evidence_parser
from verifier.collateral import CollateralInvalid, TdxCollateral
from verifier.errors import BadInput
from verifier.tdx.qe_identity import QeIdentity
from verifier.tdx.tcb_info import TcbInfo

if TYPE_CHECKING:
    from fuzz.material import Material


def quote(_context: Context, data: bytes) -> None:
    parsed = TdxQuote.from_bytes(data)
    # The verifier checks the quote signature over signed_bytes, rebuilt from the fields.
    signed = parsed.signed_bytes
    if data[: len(signed)] != signed or parsed.to_bytes() != data:
        raise ContractViolation("a parsed TDX quote does not re-serialise to its bytes")
    qe = parsed.signature_data.qe
    _ = qe.certification_data.pck_chain_pem, parsed.body.debug, parsed.body.size


def tdreport(_context: Context, data: bytes) -> None:
    is_tdreport(data)
    parsed = TdReport.from_bytes(data)
    if parsed.to_bytes() != data:
        raise ContractViolation("a parsed TDREPORT does not re-serialise to its bytes")
    _ = parsed.td_info.debug


def pck_extensions(_context: Context, data: bytes) -> None:
    parsed = PckExtensions.from_der(data)
    if PckExtensions.from_der(parsed.to_der()) != parsed:
        raise ContractViolation("PCK extensions do not survive a round trip")


def pcs_collateral(_context: Context, data: bytes) -> None:
    """Intel PCS responses as the fetcher and the directory source read them."""
    tcb_info_response, named, _ = split_parts(data)
    parts = named["collateral"]
    collateral = TdxCollateral.from_pcs_responses(
        tcb_info_response=tcb_info_response,
        tcb_info_issuer_chain=parts.get("tcb_info_issuer_chain", b""),
        qe_identity_response=parts.get("qe_identity_response", b""),
        qe_identity_issuer_chain=parts.get("qe_identity_issuer_chain"),
        pck_crl=parts.get("pck_crl", b""),
        pck_crl_issuer_chain=parts.get("pck_crl_issuer_chain", b""),
        root_ca_crl=parts.get("root_ca_crl", b""),
    )
    # Lookups on unverified collateral, documented never to raise.
    _ = collateral.fmspc, collateral.pck_crl_issuer(), collateral.window()
    # What the verifier parses once the signatures hold (here: whatever the bytes are).
    with contextlib.suppress(CollateralInvalid):
        TcbInfo.from_json(collateral.tcb_info)
    QeIdentity.from_json(collateral.qe_identity)


def _pcs_responses(material: Material) -> Iterable[bytes]:
    def response(key: str, raw: bytes, signature: bytes) -> bytes:
        return (
            b'{"'
            + key.encode()
            + b'":'
            + raw
            + b',"signature":"'
            + signature.hex().encode()
            + b'"}'
        )

    for evidence in material.tdx_evidence:
        c = TdxCollateral.from_evidence(evidence.collateral)
        if c is None:
            continue
        yield join_parts(
            response("tcbInfo", c.tcb_info, c.tcb_info_signature),
            {
                "coll.qe_identity_response": response(
                    "enclaveIdentity", c.qe_identity, c.qe_identity_signature
                ),
                "coll.tcb_info_issuer_chain": c.tcb_info_issuer_chain,
                "coll.qe_identity_issuer_chain": c.qe_identity_issuer_chain,
                "coll.pck_crl": c.pck_crl,
                "coll.pck_crl_issuer_chain": c.pck_crl_issuer_chain,
                "coll.root_ca_crl": c.root_ca_crl,
            },
        )


TARGETS = (
    evidence_parser(
        name="tdx_quote",
        summary="TdxQuote.from_bytes (v4/v5 header, TD body, signature data, QE report, "
        "nested certification data); re-serialises to its exact bytes",
        run=quote,
        seeds=lambda m: m.tdx_quotes,
        max_len=8192,
    ),
    evidence_parser(
        name="tdx_tdreport",
        summary="TdReport.from_bytes (1024-byte TDREPORT); re-serialises to its exact bytes",
        run=tdreport,
        seeds=lambda m: m.tdreports,
        max_len=2048,
    ),
    evidence_parser(
        name="tdx_pck_extensions",
        summary="PckExtensions.from_der (the DER of a PCK certificate's SGX extensions); "
        "what parses survives a round trip",
        run=pck_extensions,
        seeds=lambda m: m.pck_extensions,
        max_len=4096,
    ),
    Target(
        name="tdx_pcs_collateral",
        summary="TdxCollateral.from_pcs_responses (raw PCS bodies, chains, CRLs), the lookups "
        "on it, then TcbInfo/QeIdentity.from_json as if the signatures held",
        allowed=(BadInput, CollateralInvalid),
        run=pcs_collateral,
        seeds=_pcs_responses,
        max_len=65536,
        weight=2,
    ),
)
