"""TPMS_ATTEST of type TPM_ST_ATTEST_QUOTE: what TPM2_Quote signs.

Layout (TPM 2.0 Part 2, 10.12.12), big-endian::

    TPM_CONSTANTS32   magic            TPM_GENERATED_VALUE 0xff544347
    TPMI_ST_ATTEST    type             TPM_ST_ATTEST_QUOTE 0x8018
    TPM2B_NAME        qualifiedSigner  qualified name of the signing key
    TPM2B_DATA        extraData        the caller's qualifying data (our 64-byte binding)
    TPMS_CLOCK_INFO   clockInfo        UINT64 clock, UINT32 resetCount, UINT32 restartCount,
                                       TPMI_YES_NO safe
    UINT64            firmwareVersion
    TPMS_QUOTE_INFO   attested         TPML_PCR_SELECTION pcrSelect, TPM2B_DIGEST pcrDigest

A restricted signing key signs only structures that the TPM built and that start with
``magic``, which is why the verifier insists on a restricted attestation key.
"""

from __future__ import annotations

from dataclasses import dataclass

from attestation.formats.tpm.constants import (
    MAX_DATA_SIZE,
    MAX_DIGEST_SIZE,
    MAX_NAME_SIZE,
    TPM_GENERATED_VALUE,
    TPM_ST_ATTEST_QUOTE,
)
from attestation.formats.tpm.pcrs import PcrSelection
from attestation.formats.tpm.wire import Reader, tpm2b, u8, u16, u32, u64


@dataclass(frozen=True)
class ClockInfo:
    """TPMS_CLOCK_INFO: TPM time (ms since the last clear), reset and restart counters."""

    clock: int
    reset_count: int
    restart_count: int
    safe: bool

    def to_bytes(self) -> bytes:
        return u64(self.clock) + u32(self.reset_count) + u32(self.restart_count) + u8(self.safe)


@dataclass(frozen=True)
class QuoteAttest:
    """A parsed TPMS_ATTEST carrying a TPMS_QUOTE_INFO."""

    qualified_signer: bytes
    extra_data: bytes
    clock_info: ClockInfo
    firmware_version: int
    pcr_select: PcrSelection
    pcr_digest: bytes

    def to_bytes(self) -> bytes:
        return (
            u32(TPM_GENERATED_VALUE)
            + u16(TPM_ST_ATTEST_QUOTE)
            + tpm2b(self.qualified_signer)
            + tpm2b(self.extra_data)
            + self.clock_info.to_bytes()
            + u64(self.firmware_version)
            + self.pcr_select.to_bytes()
            + tpm2b(self.pcr_digest)
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> QuoteAttest:
        """Parse exactly one quote TPMS_ATTEST; bad bytes raise MalformedEvidence."""
        r = Reader(data, structure="TPMS_ATTEST")
        magic = r.u32("magic")
        if magic != TPM_GENERATED_VALUE:
            raise r.fail("magic", f"0x{magic:08x} is not TPM_GENERATED_VALUE", at=0)
        kind = r.u16("type")
        if kind != TPM_ST_ATTEST_QUOTE:
            raise r.fail("type", f"0x{kind:04x} is not TPM_ST_ATTEST_QUOTE", at=4)
        signer = r.tpm2b("qualifiedSigner", max_size=MAX_NAME_SIZE)
        extra = r.tpm2b("extraData", max_size=MAX_DATA_SIZE)
        clock = r.u64("clockInfo.clock")
        resets = r.u32("clockInfo.resetCount")
        restarts = r.u32("clockInfo.restartCount")
        safe_at = r.offset
        safe = r.u8("clockInfo.safe")
        if safe > 1:
            raise r.fail("clockInfo.safe", f"{safe} is not a TPMI_YES_NO", at=safe_at)
        firmware = r.u64("firmwareVersion")
        selection = PcrSelection.read(r, "attested.pcrSelect")
        digest = r.tpm2b("attested.pcrDigest", max_size=MAX_DIGEST_SIZE)
        r.end()
        return cls(
            signer, extra, ClockInfo(clock, resets, restarts, bool(safe)), firmware, selection,
            digest,
        )  # fmt: skip
