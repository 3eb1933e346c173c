"""The 48-byte quote header shared by TDX quotes v4 and v5.

Layout, little-endian::

    0x00  version             u16   4 or 5
    0x02  attestation key     u16   2 = ECDSA-256 with P-256
    0x04  TEE type            u32   0x81 = TDX (0x00 is SGX)
    0x08  QE SVN              u16   (marked reserved for TDX; kept as read)
    0x0A  PCE SVN             u16   (marked reserved for TDX; kept as read)
    0x0C  QE vendor ID        16    939a7233f79c4ca9940a0db3957f0607 for Intel's QE
    0x1C  user data           20
"""

from __future__ import annotations

from dataclasses import dataclass

from attestation.errors import MalformedEvidence
from attestation.formats.binary import Reader, require_size

HEADER_SIZE = 48
QUOTE_VERSIONS = (4, 5)
ATTESTATION_KEY_ECDSA_P256 = 2
TEE_TYPE_TDX = 0x81
INTEL_QE_VENDOR_ID = bytes.fromhex("939a7233f79c4ca9940a0db3957f0607")


@dataclass(frozen=True)
class QuoteHeader:
    version: int
    attestation_key_type: int
    tee_type: int
    qe_svn: int
    pce_svn: int
    qe_vendor_id: bytes
    user_data: bytes

    def __post_init__(self) -> None:
        if self.version not in QUOTE_VERSIONS:
            raise MalformedEvidence(
                f"quote version {self.version} is not a TDX quote version (4 or 5)",
                field="version",
                offset=0,
            )
        if self.attestation_key_type != ATTESTATION_KEY_ECDSA_P256:
            raise MalformedEvidence(
                f"attestation key type {self.attestation_key_type} is not 2 (ECDSA P-256)",
                field="attestation_key_type",
                offset=2,
            )
        if self.tee_type != TEE_TYPE_TDX:
            raise MalformedEvidence(
                f"TEE type 0x{self.tee_type:x} is not TDX (0x81)", field="tee_type", offset=4
            )
        for name in ("qe_svn", "pce_svn"):
            value = getattr(self, name)
            if type(value) is not int or not 0 <= value <= 0xFFFF:
                raise MalformedEvidence("must fit in 16 bits", field=name)
        require_size(self.qe_vendor_id, 16, "qe_vendor_id")
        require_size(self.user_data, 20, "user_data")

    @classmethod
    def parse(cls, reader: Reader) -> QuoteHeader:
        return cls(
            version=reader.u16("version"),
            attestation_key_type=reader.u16("attestation_key_type"),
            tee_type=reader.u32("tee_type"),
            qe_svn=reader.u16("qe_svn"),
            pce_svn=reader.u16("pce_svn"),
            qe_vendor_id=reader.take(16, "qe_vendor_id"),
            user_data=reader.take(20, "user_data"),
        )

    def to_bytes(self) -> bytes:
        return b"".join(
            (
                self.version.to_bytes(2, "little"),
                self.attestation_key_type.to_bytes(2, "little"),
                self.tee_type.to_bytes(4, "little"),
                self.qe_svn.to_bytes(2, "little"),
                self.pce_svn.to_bytes(2, "little"),
                self.qe_vendor_id,
                self.user_data,
            )
        )
