"""A stand-in hardware platform for the Azure HCL seam, until the SNP verifier is wired in.

It signs 1184-byte reports that use the SNP offsets that matter here (POLICY at 0x08 with
the debug bit 19, REPORT_DATA at 0x50, MEASUREMENT at 0x90, signature r ‖ s at 0x2A0) with
a local P-256 key, and its verifier checks that signature. It is not SNP: it only gives the
vTPM verifier a hardware verifier that really verifies something.
"""

from __future__ import annotations

import struct
from datetime import datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from attestation.evidence import Evidence
from verifier.claims import Check, VerifiedEvidence
from verifier.errors import EvidenceSignatureInvalid
from verifier.trust import TrustedRoots

REPORT_SIZE = 1184
SIGNED = 0x2A0
DEBUG_BIT = 1 << 19


class FakeHardware:
    def __init__(self, *, debug: bool = False, measurement: bytes = b"\x5a" * 48) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.debug = debug
        self.measurement = measurement
        self.calls = 0

    def sign(self, report_data: bytes) -> bytes:
        body = bytearray(SIGNED)
        struct.pack_into("<IIQ", body, 0, 2, 0, 0x30000 | (DEBUG_BIT if self.debug else 0))
        body[0x50:0x90] = report_data
        body[0x90:0xC0] = self.measurement
        r, s = decode_dss_signature(self.key.sign(bytes(body), ec.ECDSA(hashes.SHA256())))
        return (bytes(body) + r.to_bytes(32, "big") + s.to_bytes(32, "big")).ljust(
            REPORT_SIZE, b"\x00"
        )

    def verify(
        self,
        evidence: Evidence,
        *,
        roots: TrustedRoots,
        now: datetime,
        collateral: object | None = None,
    ) -> VerifiedEvidence:
        self.calls += 1
        report = evidence.report
        r = int.from_bytes(report[SIGNED : SIGNED + 32], "big")
        s = int.from_bytes(report[SIGNED + 32 : SIGNED + 64], "big")
        try:
            self.key.public_key().verify(
                encode_dss_signature(r, s), report[:SIGNED], ec.ECDSA(hashes.SHA256())
            )
        except InvalidSignature:
            raise EvidenceSignatureInvalid("fake-hw.signature", "bad signature") from None
        (policy,) = struct.unpack_from("<Q", report, 8)
        return VerifiedEvidence(
            platform=evidence.platform,
            report_data=report[0x50:0x90],
            measurements={"measurement": report[0x90:0xC0].hex()},
            debug=bool(policy & DEBUG_BIT),
            tcb={"fake": True},
            signer="fake hardware key",
            checked_at=now,
            checks=(Check("fake-hw.signature", "the fake hardware signature verifies"),),
        )
