"""AWS Nitro: attestation documents, their COSE_Sign1 envelope, NSM messages."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from typing import TYPE_CHECKING

from attestation.errors import MalformedEvidence
from attestation.formats.cose import CoseSign1
from attestation.formats.nitro import parse_nitro
from attestation.formats.nsm import (
    AttestationRequest,
    AttestationResponse,
    ErrorResponse,
    decode_response,
)
from fuzz.contract import Context, ContractViolation
from fuzz.targets import evidence_parser

if TYPE_CHECKING:
    from fuzz.material import Material


def document(_context: Context, data: bytes) -> None:
    parsed = parse_nitro(data).document
    _ = parsed.timestamp, parsed.to_dict(), parsed.leaf, parsed.bundle


def cose(_context: Context, data: bytes) -> None:
    envelope = CoseSign1.from_bytes(data)
    # decode_cbor accepts only the preferred encoding, so the envelope is canonical.
    if envelope.to_bytes() != data:
        raise ContractViolation("a parsed COSE_Sign1 does not re-serialise to its bytes")
    envelope.to_be_signed()
    envelope.signature_der()


def nsm(_context: Context, data: bytes) -> None:
    with contextlib.suppress(MalformedEvidence):
        AttestationRequest.from_cbor(data)
    response = decode_response(data)
    if isinstance(response, AttestationResponse):
        parse_nitro(response.document)


def _nsm_messages(material: Material) -> Iterable[bytes]:
    for raw in material.nitro_documents:
        yield AttestationResponse(raw).to_cbor()
    yield ErrorResponse("InvalidArgument").to_cbor()
    yield AttestationRequest(user_data=bytes(64), nonce=bytes(32)).to_cbor()


TARGETS = (
    evidence_parser(
        name="nitro_document",
        summary="parse_nitro: COSE_Sign1, the CBOR attestation document, its certificates",
        run=document,
        seeds=lambda m: m.nitro_documents,
        max_len=20000,
    ),
    evidence_parser(
        name="cose_sign1",
        summary="CoseSign1.from_bytes (strict CBOR); re-serialises to its exact bytes",
        run=cose,
        seeds=lambda m: m.nitro_documents,
        max_len=20000,
    ),
    evidence_parser(
        name="nsm_response",
        summary="decode_response (and AttestationRequest.from_cbor): NSM messages, then the "
        "document a response carries",
        run=nsm,
        seeds=_nsm_messages,
        max_len=20000,
    ),
)
