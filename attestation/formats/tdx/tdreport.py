"""The 1024-byte TDREPORT that ``/dev/tdx_guest`` returns (TDX module ABI, TDG.MR.REPORT).

A TDREPORT is MACed with a key only the CPU holds: nobody off the machine can check it.
It becomes verifiable evidence only once a quoting enclave turns it into a quote.

Layout::

    0x000  REPORTMACSTRUCT (256)
             0x00 REPORTTYPE (type 0x81 = TDX, subtype, version, reserved)
             0x04 reserved 12     0x10 CPUSVN 16
             0x20 TEE_TCB_INFO_HASH 48 (SHA-384 of TEE_TCB_INFO)
             0x50 TEE_INFO_HASH 48     (SHA-384 of TDINFO)
             0x80 REPORTDATA 64   0xC0 reserved 32   0xE0 MAC 32
    0x100  TEE_TCB_INFO (239)
             VALID 8, TEE_TCB_SVN 16, MRSEAM 48, MRSIGNERSEAM 48, ATTRIBUTES 8,
             TEE_TCB_SVN2 16 (TDX 1.5), reserved 95
    0x1EF  reserved (17)
    0x200  TDINFO (512)
             ATTRIBUTES 8, XFAM 8, MRTD 48, MRCONFIGID 48, MROWNER 48, MROWNERCONFIG 48,
             RTMR0..3 4 x 48, SERVTD_HASH 48 (TDX 1.5), reserved 64
"""

from __future__ import annotations

from dataclasses import dataclass

from attestation.errors import MalformedEvidence
from attestation.formats.binary import Reader, require_size

TDREPORT_SIZE = 1024
REPORT_TYPE_TDX = 0x81
TEE_TCB_INFO_SIZE = 239
TDINFO_SIZE = 512
_TEE_TCB_INFO_SIZES = (
    ("valid", 8),
    ("tee_tcb_svn", 16),
    ("mrseam", 48),
    ("mrsignerseam", 48),
    ("attributes", 8),
    ("tee_tcb_svn2", 16),
    ("reserved", 95),
)
_TDINFO_SIZES = (
    ("attributes", 8),
    ("xfam", 8),
    ("mrtd", 48),
    ("mrconfigid", 48),
    ("mrowner", 48),
    ("mrownerconfig", 48),
    ("servtd_hash", 48),
    ("reserved", 64),
)


@dataclass(frozen=True)
class TeeTcbInfo:
    valid: bytes
    tee_tcb_svn: bytes
    mrseam: bytes
    mrsignerseam: bytes
    attributes: bytes
    tee_tcb_svn2: bytes
    reserved: bytes

    def __post_init__(self) -> None:
        for name, size in _TEE_TCB_INFO_SIZES:
            require_size(getattr(self, name), size, f"tee_tcb_info.{name}")

    @classmethod
    def parse(cls, reader: Reader) -> TeeTcbInfo:
        return cls(
            valid=reader.take(8, "tee_tcb_info.valid"),
            tee_tcb_svn=reader.take(16, "tee_tcb_info.tee_tcb_svn"),
            mrseam=reader.take(48, "tee_tcb_info.mrseam"),
            mrsignerseam=reader.take(48, "tee_tcb_info.mrsignerseam"),
            attributes=reader.take(8, "tee_tcb_info.attributes"),
            tee_tcb_svn2=reader.take(16, "tee_tcb_info.tee_tcb_svn2"),
            reserved=reader.take(95, "tee_tcb_info.reserved"),
        )

    def to_bytes(self) -> bytes:
        return b"".join(
            (
                self.valid,
                self.tee_tcb_svn,
                self.mrseam,
                self.mrsignerseam,
                self.attributes,
                self.tee_tcb_svn2,
                self.reserved,
            )
        )


@dataclass(frozen=True)
class TdInfo:
    attributes: bytes
    xfam: bytes
    mrtd: bytes
    mrconfigid: bytes
    mrowner: bytes
    mrownerconfig: bytes
    rtmrs: tuple[bytes, bytes, bytes, bytes]
    servtd_hash: bytes
    reserved: bytes

    def __post_init__(self) -> None:
        for name, size in _TDINFO_SIZES:
            require_size(getattr(self, name), size, f"tdinfo.{name}")
        if len(self.rtmrs) != 4:
            raise MalformedEvidence("there are exactly four RTMRs", field="tdinfo.rtmrs")
        for i, rtmr in enumerate(self.rtmrs):
            require_size(rtmr, 48, f"tdinfo.rtmr{i}")

    @property
    def debug(self) -> bool:
        return bool(int.from_bytes(self.attributes, "little") & 1)

    @classmethod
    def parse(cls, reader: Reader) -> TdInfo:
        return cls(
            attributes=reader.take(8, "tdinfo.attributes"),
            xfam=reader.take(8, "tdinfo.xfam"),
            mrtd=reader.take(48, "tdinfo.mrtd"),
            mrconfigid=reader.take(48, "tdinfo.mrconfigid"),
            mrowner=reader.take(48, "tdinfo.mrowner"),
            mrownerconfig=reader.take(48, "tdinfo.mrownerconfig"),
            rtmrs=(
                reader.take(48, "tdinfo.rtmr0"),
                reader.take(48, "tdinfo.rtmr1"),
                reader.take(48, "tdinfo.rtmr2"),
                reader.take(48, "tdinfo.rtmr3"),
            ),
            servtd_hash=reader.take(48, "tdinfo.servtd_hash"),
            reserved=reader.take(64, "tdinfo.reserved"),
        )

    def to_bytes(self) -> bytes:
        return b"".join(
            (
                self.attributes,
                self.xfam,
                self.mrtd,
                self.mrconfigid,
                self.mrowner,
                self.mrownerconfig,
                *self.rtmrs,
                self.servtd_hash,
                self.reserved,
            )
        )


@dataclass(frozen=True)
class TdReport:
    """A parsed TDREPORT; ``tee_tcb_info_raw`` and ``tdinfo_raw`` are the hashed bytes."""

    report_type: bytes
    reserved1: bytes
    cpu_svn: bytes
    tee_tcb_info_hash: bytes
    tee_info_hash: bytes
    report_data: bytes
    reserved2: bytes
    mac: bytes
    tee_tcb_info: TeeTcbInfo
    reserved3: bytes
    td_info: TdInfo

    def __post_init__(self) -> None:
        require_size(self.report_type, 4, "report_type")
        if self.report_type[0] != REPORT_TYPE_TDX:
            raise MalformedEvidence(
                f"REPORTTYPE.TYPE 0x{self.report_type[0]:02x} is not TDX (0x81)",
                field="report_type",
                offset=0,
            )
        for name, size in (
            ("reserved1", 12),
            ("cpu_svn", 16),
            ("tee_tcb_info_hash", 48),
            ("tee_info_hash", 48),
            ("report_data", 64),
            ("reserved2", 32),
            ("mac", 32),
            ("reserved3", 17),
        ):
            require_size(getattr(self, name), size, name)

    @classmethod
    def from_bytes(cls, data: bytes) -> TdReport:
        if not isinstance(data, bytes | bytearray) or len(data) != TDREPORT_SIZE:
            size = len(data) if isinstance(data, bytes | bytearray) else "not bytes"
            raise MalformedEvidence(f"a TDREPORT is 1024 bytes, got {size}", field="tdreport")
        reader = Reader(bytes(data))
        return cls(
            report_type=reader.take(4, "report_type"),
            reserved1=reader.take(12, "reserved1"),
            cpu_svn=reader.take(16, "cpu_svn"),
            tee_tcb_info_hash=reader.take(48, "tee_tcb_info_hash"),
            tee_info_hash=reader.take(48, "tee_info_hash"),
            report_data=reader.take(64, "report_data"),
            reserved2=reader.take(32, "reserved2"),
            mac=reader.take(32, "mac"),
            tee_tcb_info=TeeTcbInfo.parse(reader),
            reserved3=reader.take(17, "reserved3"),
            td_info=TdInfo.parse(reader),
        )

    def to_bytes(self) -> bytes:
        return b"".join(
            (
                self.report_type,
                self.reserved1,
                self.cpu_svn,
                self.tee_tcb_info_hash,
                self.tee_info_hash,
                self.report_data,
                self.reserved2,
                self.mac,
                self.tee_tcb_info.to_bytes(),
                self.reserved3,
                self.td_info.to_bytes(),
            )
        )


def is_tdreport(data: bytes) -> bool:
    """True if ``data`` is shaped like a TDREPORT (a quote starts ``04 00`` or ``05 00``)."""
    return len(data) == TDREPORT_SIZE and data[0] == REPORT_TYPE_TDX
