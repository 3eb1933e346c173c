"""Reading evidence from a file, whatever form it arrived in.

Accepted, in the order they are recognised:

1. an attestation document (``veritee.attestation.v1``: evidence, keyset, nonce), as an
   enclave's ``GET /v1/attestation`` returns it;
2. evidence JSON (``veritee.evidence.v1``), as ``veritee attest`` writes it;
3. raw platform bytes: a SEV-SNP report (with the VCEK given separately), a TDX quote or an
   AWS Nitro attestation document (COSE_Sign1), possibly base64-encoded.

Raw bytes carry their own REPORT_DATA, which is read from them. Anything unrecognised is
:class:`MalformedEvidence`: bad input, never a guess.
"""

from __future__ import annotations

import base64
import binascii
import struct
from collections.abc import Mapping
from dataclasses import dataclass

import orjson

from attestation.document import DOCUMENT_TYPE, AttestationDocument
from attestation.errors import MalformedEvidence
from attestation.evidence import EVIDENCE_TYPE, Evidence, Platform
from attestation.formats.nitro import parse_nitro
from attestation.formats.snp import REPORT_SIZE, SnpReport
from attestation.keyset import Keyset

TDX_TEE_TYPE = 0x81
TDX_REPORT_DATA_OFFSET = 48 + 520  # v4 header, then REPORTDATA at offset 520 of the TD body


@dataclass(frozen=True)
class LoadedEvidence:
    evidence: Evidence
    keyset: Keyset | None = None
    nonce: bytes | None = None


def load_evidence(
    raw: bytes,
    *,
    platform: str = "auto",
    certificates: Mapping[str, bytes] | None = None,
) -> LoadedEvidence:
    """Recognise ``raw`` and return the evidence (and keyset/nonce when it carries them)."""
    certificates = dict(certificates or {})
    stripped = raw.strip()
    if stripped.startswith(b"{"):
        return _from_json(stripped, certificates)
    decoded = _maybe_base64(stripped)
    if decoded is not None:
        raw = decoded
    kind = platform if platform != "auto" else _sniff(raw)
    if kind == "sev-snp":
        report = SnpReport.from_bytes(raw)
        return LoadedEvidence(
            Evidence(
                platform="sev-snp",
                report=raw,
                report_data=report.report_data,
                provider="file",
                certificates=certificates,
            )
        )
    if kind == "nitro":
        document = parse_nitro(raw).document
        user_data = document.user_data or b""
        return LoadedEvidence(
            Evidence(
                platform="nitro",
                report=raw,
                report_data=user_data if len(user_data) == 64 else bytes(64),
                provider="file",
                certificates=certificates,
            )
        )
    if kind == "tdx":
        if len(raw) < TDX_REPORT_DATA_OFFSET + 64:
            raise MalformedEvidence("too short for a TDX quote", field="quote", offset=len(raw))
        return LoadedEvidence(
            Evidence(
                platform="tdx",
                report=raw,
                report_data=raw[TDX_REPORT_DATA_OFFSET : TDX_REPORT_DATA_OFFSET + 64],
                provider="file",
                certificates=certificates,
            )
        )
    raise MalformedEvidence(
        f"cannot read raw {kind} evidence; give it as evidence JSON (veritee attest writes it)"
    )


def _from_json(raw: bytes, certificates: dict[str, bytes]) -> LoadedEvidence:
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise MalformedEvidence(f"not valid JSON: {exc}") from None
    kind = data.get("type") if isinstance(data, dict) else None
    if kind == DOCUMENT_TYPE:
        document = AttestationDocument.from_dict(data)
        return LoadedEvidence(
            _with_certs(document.evidence, certificates), document.keyset, document.nonce
        )
    if kind == EVIDENCE_TYPE:
        return LoadedEvidence(_with_certs(Evidence.from_dict(data), certificates))
    raise MalformedEvidence(
        f"JSON of unknown type {kind!r}; expected {DOCUMENT_TYPE} or {EVIDENCE_TYPE}"
    )


def _with_certs(evidence: Evidence, certificates: Mapping[str, bytes]) -> Evidence:
    if not certificates:
        return evidence
    return Evidence(
        platform=evidence.platform,
        report=evidence.report,
        report_data=evidence.report_data,
        provider=evidence.provider,
        certificates={**evidence.certificates, **certificates},
        collateral=evidence.collateral,
        extra=evidence.extra,
    )


def _maybe_base64(raw: bytes) -> bytes | None:
    text = b"".join(raw.split())
    if not text or len(text) % 4 or not all(c in _B64 for c in text):
        return None
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


_B64 = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=")


def _sniff(raw: bytes) -> Platform:
    if len(raw) == REPORT_SIZE and struct.unpack_from("<I", raw)[0] in (2, 3, 4, 5):
        return "sev-snp"
    if raw[:1] in (b"\xd2", b"\x84"):  # COSE_Sign1: tag 18, or an untagged 4-element array
        return "nitro"
    if (
        len(raw) >= 8
        and struct.unpack_from("<H", raw)[0] in (4, 5)
        and struct.unpack_from("<I", raw, 4)[0] == TDX_TEE_TYPE
    ):
        return "tdx"
    raise MalformedEvidence("not a SEV-SNP report, TDX quote or Nitro document; pass --platform")
