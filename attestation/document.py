"""The attestation document: evidence together with the keyset it binds.

This is what an enclave's ``GET /v1/attestation`` returns and what ``veritee verify
receipts --evidence`` reads::

    {"type": "veritee.attestation.v1",
     "evidence": { ...Evidence.to_dict()... },
     "keyset":   { ...Keyset.to_dict()... },
     "nonce":    "<64 hex>" | null}
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from attestation.errors import MalformedEvidence
from attestation.evidence import Evidence
from attestation.keyset import Keyset, parse_nonce

DOCUMENT_TYPE = "veritee.attestation.v1"


@dataclass(frozen=True)
class AttestationDocument:
    evidence: Evidence
    keyset: Keyset
    nonce: bytes | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": DOCUMENT_TYPE,
            "evidence": self.evidence.to_dict(),
            "keyset": self.keyset.to_dict(),
            "nonce": None if self.nonce is None else self.nonce.hex(),
        }

    def to_json(self) -> bytes:
        return orjson.dumps(self.to_dict(), option=orjson.OPT_INDENT_2)

    @classmethod
    def from_dict(cls, data: object) -> AttestationDocument:
        if not isinstance(data, dict) or data.get("type") != DOCUMENT_TYPE:
            raise MalformedEvidence(f"an attestation document has type {DOCUMENT_TYPE!r}")
        nonce = data.get("nonce")
        if nonce is not None:
            try:
                nonce = parse_nonce(nonce)
            except ValueError as exc:
                raise MalformedEvidence(str(exc), field="nonce") from None
        return cls(
            Evidence.from_dict(data.get("evidence")), Keyset.from_dict(data.get("keyset")), nonce
        )

    @classmethod
    def from_json(cls, raw: bytes | str) -> AttestationDocument:
        try:
            return cls.from_dict(orjson.loads(raw))
        except orjson.JSONDecodeError as exc:
            raise MalformedEvidence(f"not valid JSON: {exc}") from None
