"""The SEV-SNP ATTESTATION_REPORT: 0x4A0 bytes, little-endian, at fixed offsets.

Layout (SEV-SNP firmware ABI, "ATTESTATION_REPORT structure")::

    0x000  VERSION            u32     2, 3, 4 or 5
    0x004  GUEST_SVN          u32
    0x008  POLICY             u64     bit 17 must be one; bit 19 = DEBUG
    0x010  FAMILY_ID          16
    0x020  IMAGE_ID           16
    0x030  VMPL               u32
    0x034  SIGNATURE_ALGO     u32     1 = ECDSA P-384 with SHA-384
    0x038  CURRENT_TCB        u64     TCB_VERSION
    0x040  PLATFORM_INFO      u64
    0x048  SIGNER_INFO        u32     bit 0 AUTHOR_KEY_EN, bit 1 MASK_CHIP_KEY,
                                      bits 4:2 SIGNING_KEY (0 VCEK, 1 VLEK, 7 none)
    0x04C  reserved           4
    0x050  REPORT_DATA        64
    0x090  MEASUREMENT        48
    0x0C0  HOST_DATA          32
    0x0E0  ID_KEY_DIGEST      48
    0x110  AUTHOR_KEY_DIGEST  48
    0x140  REPORT_ID          32
    0x160  REPORT_ID_MA       32
    0x180  REPORTED_TCB       u64     the TCB the VCEK was derived from
    0x188  CPUID_FAM_ID       u8      version 3 and later (reserved before)
    0x189  CPUID_MOD_ID       u8      version 3 and later
    0x18A  CPUID_STEP         u8      version 3 and later
    0x18B  reserved           21
    0x1A0  CHIP_ID            64      zero when MASK_CHIP_KEY is set
    0x1E0  COMMITTED_TCB      u64
    0x1E8  CURRENT_BUILD, _MINOR, _MAJOR   u8 each, then 1 reserved
    0x1EC  COMMITTED_BUILD, _MINOR, _MAJOR u8 each, then 1 reserved
    0x1F0  LAUNCH_TCB         u64
    0x1F8  LAUNCH_MIT_VECTOR  u64     version 5 and later (reserved before)
    0x200  CURRENT_MIT_VECTOR u64     version 5 and later
    0x208  reserved           0x98
    0x2A0  SIGNATURE          512     R (72 bytes LE) then S (72 bytes LE), 48 significant
                                      bytes each; the rest must be zero

The signature covers bytes 0x000-0x29F. Version 4 exists on deployed firmware but its
layout is not public beyond being that of version 3; it is parsed as version 3.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntEnum
from typing import NamedTuple

from attestation.errors import MalformedEvidence
from attestation.formats.snp_tcb import Product, product_from_cpuid

REPORT_SIZE = 0x4A0
SIGNED_SIZE = 0x2A0
SIGNATURE_OFFSET = 0x2A0
SIGNATURE_ALGO_ECDSA_P384_SHA384 = 1
VERSIONS = frozenset({2, 3, 4, 5})
POLICY_MUST_BE_ONE_BIT = 17
POLICY_DEBUG_BIT = 19
_COMPONENT = 72  # bytes per R or S, little-endian
_SIGNIFICANT = 48  # a P-384 scalar


class SigningKey(IntEnum):
    """SIGNER_INFO.SIGNING_KEY: which key signed the report."""

    VCEK = 0
    VLEK = 1
    NONE = 7


class FirmwareVersion(NamedTuple):
    major: int
    minor: int
    build: int

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.build}"


# name -> (offset, size) of the byte-string fields.
_BYTES = {
    "family_id": (0x010, 16),
    "image_id": (0x020, 16),
    "report_data": (0x050, 64),
    "measurement": (0x090, 48),
    "host_data": (0x0C0, 32),
    "id_key_digest": (0x0E0, 48),
    "author_key_digest": (0x110, 48),
    "report_id": (0x140, 32),
    "report_id_ma": (0x160, 32),
    "chip_id": (0x1A0, 64),
}
# name -> (offset, struct format) of the integer fields present in every version.
_INTS = {
    "version": (0x000, "<I"),
    "guest_svn": (0x004, "<I"),
    "policy": (0x008, "<Q"),
    "vmpl": (0x030, "<I"),
    "signature_algo": (0x034, "<I"),
    "current_tcb": (0x038, "<Q"),
    "platform_info": (0x040, "<Q"),
    "reported_tcb": (0x180, "<Q"),
    "committed_tcb": (0x1E0, "<Q"),
    "launch_tcb": (0x1F0, "<Q"),
}
_SIGNER_INFO = 0x048
_CPUID = 0x188
_CURRENT_VERSION = 0x1E8
_COMMITTED_VERSION = 0x1EC
_MIT_VECTORS = {"launch_mit_vector": 0x1F8, "current_mit_vector": 0x200}


def _reserved_ranges(version: int) -> tuple[tuple[int, int, str], ...]:
    """Must-be-zero ranges [start, end) of the signed region for ``version``."""
    cpuid_end = _CPUID + 3 if version >= 3 else _CPUID
    mit_end = 0x208 if version >= 5 else 0x1F8
    return (
        (0x04C, 0x050, "reserved after SIGNER_INFO"),
        (cpuid_end, 0x1A0, "reserved before CHIP_ID"),
        (0x1EB, 0x1EC, "reserved after CURRENT_MAJOR"),
        (0x1EF, 0x1F0, "reserved after COMMITTED_MAJOR"),
        (mit_end, SIGNED_SIZE, "reserved before SIGNATURE"),
    )


def _check_version(version: object) -> int:
    if type(version) is not int or version not in VERSIONS:
        raise MalformedEvidence(
            f"unsupported report version {version!r} (known: {sorted(VERSIONS)})",
            field="version",
            offset=0,
        )
    return version


def _check_zero(data: bytes, start: int, end: int, field: str) -> None:
    for offset in range(start, end):
        if data[offset]:
            raise MalformedEvidence(
                f"must be zero, found 0x{data[offset]:02x}", field=field, offset=offset
            )


@dataclass(frozen=True)
class SnpReport:
    """One parsed SEV-SNP attestation report. Built with every field named; checked on build.

    TCB fields are raw 64-bit TCB_VERSIONs; decode them with
    :class:`attestation.formats.snp_tcb.TcbVersion` and the product.
    ``cpuid_*`` are None before version 3; the mitigation vectors are None before
    version 5. ``signature_r``/``signature_s`` are the ECDSA scalars as integers.
    """

    version: int
    guest_svn: int
    policy: int
    family_id: bytes
    image_id: bytes
    vmpl: int
    signature_algo: int
    current_tcb: int
    platform_info: int
    author_key_en: bool
    mask_chip_key: bool
    signing_key: SigningKey
    report_data: bytes
    measurement: bytes
    host_data: bytes
    id_key_digest: bytes
    author_key_digest: bytes
    report_id: bytes
    report_id_ma: bytes
    reported_tcb: int
    cpuid_fam_id: int | None
    cpuid_mod_id: int | None
    cpuid_step: int | None
    chip_id: bytes
    committed_tcb: int
    current_version: FirmwareVersion
    committed_version: FirmwareVersion
    launch_tcb: int
    launch_mit_vector: int | None
    current_mit_vector: int | None
    signature_r: int
    signature_s: int

    def __post_init__(self) -> None:
        _check_version(self.version)
        for name, (offset, size) in _BYTES.items():
            value = getattr(self, name)
            if not isinstance(value, bytes) or len(value) != size:
                raise MalformedEvidence(f"must be {size} bytes", field=name, offset=offset)
        for name, (offset, fmt) in _INTS.items():
            _check_uint(getattr(self, name), struct.calcsize(fmt), name, offset)
        if self.signature_algo != SIGNATURE_ALGO_ECDSA_P384_SHA384:
            raise MalformedEvidence(
                f"unknown signature algorithm {self.signature_algo} (1 = ECDSA P-384 SHA-384)",
                field="signature_algo",
                offset=0x034,
            )
        if not self.policy >> POLICY_MUST_BE_ONE_BIT & 1:
            raise MalformedEvidence(
                f"bit {POLICY_MUST_BE_ONE_BIT} is reserved and must be one",
                field="policy",
                offset=0x008,
            )
        for name in ("author_key_en", "mask_chip_key"):
            if not isinstance(getattr(self, name), bool):
                raise MalformedEvidence("must be a bool", field=name, offset=_SIGNER_INFO)
        if not isinstance(self.signing_key, SigningKey):
            raise MalformedEvidence("unknown signing key", field="signer_info", offset=_SIGNER_INFO)
        self._check_versioned()
        for name, offset in (
            ("current_version", _CURRENT_VERSION),
            ("committed_version", _COMMITTED_VERSION),
        ):
            value = getattr(self, name)
            if not isinstance(value, FirmwareVersion):
                raise MalformedEvidence("must be a FirmwareVersion", field=name, offset=offset)
            for part in value:
                _check_uint(part, 1, name, offset)
        for name, offset in (
            ("signature_r", SIGNATURE_OFFSET),
            ("signature_s", SIGNATURE_OFFSET + _COMPONENT),
        ):
            _check_uint(getattr(self, name), _SIGNIFICANT, name, offset)

    def _check_versioned(self) -> None:
        cpuid = (self.cpuid_fam_id, self.cpuid_mod_id, self.cpuid_step)
        if self.version >= 3:
            for index, value in enumerate(cpuid):
                _check_uint(value, 1, "cpuid", _CPUID + index)
        elif cpuid != (None, None, None):
            raise MalformedEvidence(
                "CPUID fields exist from version 3", field="cpuid", offset=_CPUID
            )
        for name, offset in _MIT_VECTORS.items():
            value = getattr(self, name)
            if self.version >= 5:
                _check_uint(value, 8, name, offset)
            elif value is not None:
                raise MalformedEvidence("exists from version 5", field=name, offset=offset)

    # -- derived views -------------------------------------------------------------

    @property
    def signer_info(self) -> int:
        return int(self.author_key_en) | int(self.mask_chip_key) << 1 | self.signing_key << 2

    @property
    def debug(self) -> bool:
        """POLICY bit 19: the hypervisor may decrypt and debug the guest."""
        return bool(self.policy >> POLICY_DEBUG_BIT & 1)

    @property
    def cpuid_product(self) -> Product | None:
        """The product named by the CPUID fields (version 3 and later), if known."""
        if self.cpuid_fam_id is None or self.cpuid_mod_id is None:
            return None
        return product_from_cpuid(self.cpuid_fam_id, self.cpuid_mod_id)

    def signature_bytes(self) -> bytes:
        """The 512-byte SIGNATURE field."""
        r = self.signature_r.to_bytes(_COMPONENT, "little")
        s = self.signature_s.to_bytes(_COMPONENT, "little")
        return (r + s).ljust(REPORT_SIZE - SIGNATURE_OFFSET, b"\x00")

    def signed_bytes(self) -> bytes:
        """Bytes 0x000-0x29F: exactly what the signature covers."""
        out = bytearray(SIGNED_SIZE)
        for name, (offset, fmt) in _INTS.items():
            struct.pack_into(fmt, out, offset, getattr(self, name))
        for name, (offset, size) in _BYTES.items():
            out[offset : offset + size] = getattr(self, name)
        struct.pack_into("<I", out, _SIGNER_INFO, self.signer_info)
        for index, value in enumerate((self.cpuid_fam_id, self.cpuid_mod_id, self.cpuid_step)):
            out[_CPUID + index] = value or 0
        for offset, version in (
            (_CURRENT_VERSION, self.current_version),
            (_COMMITTED_VERSION, self.committed_version),
        ):
            out[offset : offset + 3] = bytes((version.build, version.minor, version.major))
        if self.version >= 5:
            for name, offset in _MIT_VECTORS.items():
                struct.pack_into("<Q", out, offset, getattr(self, name))
        return bytes(out)

    def to_bytes(self) -> bytes:
        return self.signed_bytes() + self.signature_bytes()

    # -- parsing -------------------------------------------------------------------

    @classmethod
    def from_bytes(cls, data: bytes) -> SnpReport:
        """Parse exactly 0x4A0 bytes; raise MalformedEvidence naming the field and offset."""
        if not isinstance(data, bytes | bytearray | memoryview):
            raise MalformedEvidence("an SNP report is bytes", field="report")
        data = bytes(data)
        if len(data) != REPORT_SIZE:
            problem = "truncated" if len(data) < REPORT_SIZE else "oversized"
            raise MalformedEvidence(
                f"{problem}: an SNP report is {REPORT_SIZE} bytes, got {len(data)}",
                field="report",
                offset=min(len(data), REPORT_SIZE),
            )
        ints: dict[str, int] = {
            name: struct.unpack_from(fmt, data, off)[0] for name, (off, fmt) in _INTS.items()
        }
        version = _check_version(ints["version"])
        for start, end, name in _reserved_ranges(version):
            _check_zero(data, start, end, name)
        signer_info = struct.unpack_from("<I", data, _SIGNER_INFO)[0]
        if signer_info >> 5:
            raise MalformedEvidence(
                f"bits 31:5 are reserved and must be zero, got 0x{signer_info:x}",
                field="signer_info",
                offset=_SIGNER_INFO,
            )
        try:
            signing_key = SigningKey(signer_info >> 2 & 7)
        except ValueError:
            raise MalformedEvidence(
                f"SIGNING_KEY {signer_info >> 2 & 7} is reserved (0 VCEK, 1 VLEK, 7 none)",
                field="signer_info",
                offset=_SIGNER_INFO,
            ) from None
        sig = SIGNATURE_OFFSET
        _check_zero(data, sig + _SIGNIFICANT, sig + _COMPONENT, "signature.r (high bytes)")
        _check_zero(
            data, sig + _COMPONENT + _SIGNIFICANT, sig + 2 * _COMPONENT, "signature.s (high bytes)"
        )
        _check_zero(data, sig + 2 * _COMPONENT, REPORT_SIZE, "signature (reserved)")
        v3 = version >= 3
        v5 = version >= 5
        raw = {name: data[off : off + size] for name, (off, size) in _BYTES.items()}
        return cls(
            version=version,
            guest_svn=ints["guest_svn"],
            policy=ints["policy"],
            family_id=raw["family_id"],
            image_id=raw["image_id"],
            vmpl=ints["vmpl"],
            signature_algo=ints["signature_algo"],
            current_tcb=ints["current_tcb"],
            platform_info=ints["platform_info"],
            author_key_en=bool(signer_info & 1),
            mask_chip_key=bool(signer_info & 2),
            signing_key=signing_key,
            report_data=raw["report_data"],
            measurement=raw["measurement"],
            host_data=raw["host_data"],
            id_key_digest=raw["id_key_digest"],
            author_key_digest=raw["author_key_digest"],
            report_id=raw["report_id"],
            report_id_ma=raw["report_id_ma"],
            reported_tcb=ints["reported_tcb"],
            cpuid_fam_id=data[_CPUID] if v3 else None,
            cpuid_mod_id=data[_CPUID + 1] if v3 else None,
            cpuid_step=data[_CPUID + 2] if v3 else None,
            chip_id=raw["chip_id"],
            committed_tcb=ints["committed_tcb"],
            current_version=_firmware_version(data, _CURRENT_VERSION),
            committed_version=_firmware_version(data, _COMMITTED_VERSION),
            launch_tcb=ints["launch_tcb"],
            launch_mit_vector=_u64(data, 0x1F8) if v5 else None,
            current_mit_vector=_u64(data, 0x200) if v5 else None,
            signature_r=int.from_bytes(data[sig : sig + _COMPONENT], "little"),
            signature_s=int.from_bytes(data[sig + _COMPONENT : sig + 2 * _COMPONENT], "little"),
        )


def _u64(data: bytes, offset: int) -> int:
    value: int = struct.unpack_from("<Q", data, offset)[0]
    return value


def _firmware_version(data: bytes, offset: int) -> FirmwareVersion:
    build, minor, major = data[offset : offset + 3]
    return FirmwareVersion(major=major, minor=minor, build=build)


def _check_uint(value: object, size: int, field: str, offset: int) -> None:
    if type(value) is not int or not 0 <= value < 1 << (8 * size):
        raise MalformedEvidence(
            f"must be an unsigned {8 * size}-bit integer", field=field, offset=offset
        )
