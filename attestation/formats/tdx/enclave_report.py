"""The SGX enclave report body (384 bytes): in a TDX quote, the Quoting Enclave's report.

Layout, little-endian::

    0x000  CPUSVN       16       0x080  MRSIGNER     32
    0x010  MISCSELECT   u32      0x0A0  reserved     96
    0x014  reserved     28       0x100  ISVPRODID    u16
    0x030  ATTRIBUTES   16       0x102  ISVSVN       u16
    0x040  MRENCLAVE    32       0x104  reserved     60
    0x060  reserved     32       0x140  REPORTDATA   64
"""

from __future__ import annotations

from dataclasses import dataclass

from attestation.errors import MalformedEvidence
from attestation.formats.binary import Reader, require_size

ENCLAVE_REPORT_SIZE = 384


@dataclass(frozen=True)
class EnclaveReport:
    """A parsed enclave report. Reserved bytes are kept so that it re-serialises exactly."""

    cpu_svn: bytes
    misc_select: int
    reserved1: bytes
    attributes: bytes
    mrenclave: bytes
    reserved2: bytes
    mrsigner: bytes
    reserved3: bytes
    isv_prod_id: int
    isv_svn: int
    reserved4: bytes
    report_data: bytes

    def __post_init__(self) -> None:
        for name, size in (
            ("cpu_svn", 16),
            ("reserved1", 28),
            ("attributes", 16),
            ("mrenclave", 32),
            ("reserved2", 32),
            ("mrsigner", 32),
            ("reserved3", 96),
            ("reserved4", 60),
            ("report_data", 64),
        ):
            require_size(getattr(self, name), size, f"qe_report.{name}")
        for name, bits in (("misc_select", 32), ("isv_prod_id", 16), ("isv_svn", 16)):
            value = getattr(self, name)
            if type(value) is not int or not 0 <= value < (1 << bits):
                raise MalformedEvidence(f"must fit in {bits} bits", field=f"qe_report.{name}")

    @classmethod
    def parse(cls, reader: Reader) -> EnclaveReport:
        return cls(
            cpu_svn=reader.take(16, "qe_report.cpu_svn"),
            misc_select=reader.u32("qe_report.misc_select"),
            reserved1=reader.take(28, "qe_report.reserved1"),
            attributes=reader.take(16, "qe_report.attributes"),
            mrenclave=reader.take(32, "qe_report.mrenclave"),
            reserved2=reader.take(32, "qe_report.reserved2"),
            mrsigner=reader.take(32, "qe_report.mrsigner"),
            reserved3=reader.take(96, "qe_report.reserved3"),
            isv_prod_id=reader.u16("qe_report.isv_prod_id"),
            isv_svn=reader.u16("qe_report.isv_svn"),
            reserved4=reader.take(60, "qe_report.reserved4"),
            report_data=reader.take(64, "qe_report.report_data"),
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> EnclaveReport:
        reader = Reader(data)
        report = cls.parse(reader)
        reader.expect_end("qe_report")
        return report

    def to_bytes(self) -> bytes:
        return b"".join(
            (
                self.cpu_svn,
                self.misc_select.to_bytes(4, "little"),
                self.reserved1,
                self.attributes,
                self.mrenclave,
                self.reserved2,
                self.mrsigner,
                self.reserved3,
                self.isv_prod_id.to_bytes(2, "little"),
                self.isv_svn.to_bytes(2, "little"),
                self.reserved4,
                self.report_data,
            )
        )
