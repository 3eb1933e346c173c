"""Helpers for Nitro tests: the real vectors, a settable clock, re-signing documents."""

from __future__ import annotations

import base64
import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import strategies as st

from attestation.evidence import Evidence
from attestation.formats.cose import (
    ES384_PROTECTED,
    CoseSign1,
    der_to_raw_signature,
    sig_structure,
)
from attestation.formats.nitro import NitroDocument, parse_nitro

# The real vectors: (file, the document's own timestamp) from testvectors/README.md.
EVERVAULT_2022 = "evervault-2022.doc.cbor"
EVERVAULT_2023 = "evervault-2023-debug-keybinding.doc.b64"
EVERVAULT_2022_AT = datetime(2022, 10, 13, 8, 58, 2, 136000, tzinfo=UTC)
EVERVAULT_2023_AT = datetime(2023, 9, 18, 15, 3, 30, 860000, tzinfo=UTC)
START = datetime(2025, 3, 14, 15, 9, 26, 535000, tzinfo=UTC)


def read_vector(testvectors: Path, name: str) -> bytes:
    data = (testvectors / "nitro" / name).read_bytes()
    return base64.b64decode(data) if name.endswith(".b64") else data


def evidence(raw: bytes, report_data: bytes = bytes(64)) -> Evidence:
    return Evidence(platform="nitro", report=raw, report_data=report_data, provider="test")


class Clock:
    """A clock that stands still until told to move."""

    def __init__(self, start: datetime = START) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


def sign(
    document: NitroDocument,
    key: ec.EllipticCurvePrivateKey,
    *,
    protected: bytes = ES384_PROTECTED,
    tagged: bool = False,
) -> bytes:
    """A COSE_Sign1 over ``document``, signed by ``key`` (which need not be the leaf's)."""
    payload = document.to_cbor()
    der = key.sign(sig_structure(protected, payload), ec.ECDSA(hashes.SHA384()))
    return CoseSign1(
        payload=payload, signature=der_to_raw_signature(der), protected=protected, tagged=tagged
    ).to_bytes()


def resign(raw: bytes, key: ec.EllipticCurvePrivateKey, **changes: object) -> bytes:
    """The document in ``raw`` with ``changes`` applied, signed again by ``key``."""
    document = dataclasses.replace(parse_nitro(raw).document, **changes)  # type: ignore[arg-type]
    return sign(document, key)


def damage(raw: bytes, draw, max_hits: int = 4) -> bytes:
    """``raw`` with 1 to ``max_hits`` random flips, cuts or insertions (hypothesis ``draw``)."""
    damaged = bytearray(raw)
    for _ in range(draw(st.integers(1, max_hits))):
        where = draw(st.integers(0, len(damaged) - 1))
        action = draw(st.sampled_from(["flip", "cut", "insert"]))
        if action == "flip":
            damaged[where] ^= draw(st.integers(1, 255))
        elif action == "cut":
            del damaged[where : where + draw(st.integers(1, 8))]
        else:
            damaged[where:where] = draw(st.binary(min_size=1, max_size=4))
    return bytes(damaged)
