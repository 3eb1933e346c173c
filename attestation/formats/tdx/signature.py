"""The quote signature data of TDX quotes v4/v5, parsed by its length fields.

Layout, little-endian::

    signature data        = quote signature (64: r ‖ s, big-endian, P-256)
                            ‖ ECDSA attestation key (64: x ‖ y, big-endian)
                            ‖ certification data
    certification data    = type u16 ‖ size u32 ‖ data[size]
      type 6 (QE report certification data), data =
                            QE report (384) ‖ QE report signature (64)
                            ‖ QE auth data size u16 ‖ QE auth data
                            ‖ certification data (nested; type 5 in practice)
      type 5 (PCK certificate chain), data = concatenated PEM: leaf, intermediate, root

A TDX quote's outer certification data is always type 6; the nested one never is (it
certifies the QE, whose report is already there), so parsing never recurses: a quote of
thousands of nested type-6 blocks cannot exhaust the stack. Every length must account for
its bytes exactly: leftovers inside a structure are malformed.
"""

from __future__ import annotations

from dataclasses import dataclass

from attestation.errors import MalformedEvidence
from attestation.formats.binary import Reader, require_size
from attestation.formats.tdx.enclave_report import ENCLAVE_REPORT_SIZE, EnclaveReport

CERT_DATA_PCK_CHAIN = 5
CERT_DATA_QE_REPORT = 6
KNOWN_CERT_DATA_TYPES = range(1, 8)


@dataclass(frozen=True)
class CertificationData:
    """Certification data of any type; ``qe_report_data`` is set for type 6."""

    type: int
    data: bytes
    qe_report_data: QeReportCertificationData | None = None

    def __post_init__(self) -> None:
        if self.type not in KNOWN_CERT_DATA_TYPES:
            raise MalformedEvidence(
                f"unknown certification data type {self.type}", field="certification_data.type"
            )
        if (self.type == CERT_DATA_QE_REPORT) != (self.qe_report_data is not None):
            raise MalformedEvidence(
                "type 6 and QE report certification data come together",
                field="certification_data.type",
            )

    @property
    def pck_chain_pem(self) -> bytes | None:
        """The PEM chain for type 5 (trailing NUL bytes dropped); None otherwise."""
        return self.data.rstrip(b"\x00") if self.type == CERT_DATA_PCK_CHAIN else None

    @classmethod
    def parse(
        cls, reader: Reader, field: str = "certification_data", *, nested: bool = False
    ) -> CertificationData:
        """Read one certification data; a ``nested`` one (inside type 6) is never type 6."""
        type_offset = reader.offset
        cert_type = reader.u16(f"{field}.type")
        size = reader.u32(f"{field}.size")
        base = reader.offset
        data = reader.take(size, f"{field}.data")
        if cert_type not in KNOWN_CERT_DATA_TYPES:
            raise MalformedEvidence(
                f"unknown certification data type {cert_type}",
                field=f"{field}.type",
                offset=type_offset,
            )
        if nested and cert_type == CERT_DATA_QE_REPORT:
            raise MalformedEvidence(
                "QE report certification data cannot nest another (type 6)",
                field=f"{field}.type",
                offset=type_offset,
            )
        if cert_type == CERT_DATA_QE_REPORT:
            body = Reader(data, base=base)
            qe = QeReportCertificationData.parse(body)
            body.expect_end(f"{field}.data")
            return cls(cert_type, data, qe)
        return cls(cert_type, data)

    @classmethod
    def qe_report(cls, qe: QeReportCertificationData) -> CertificationData:
        return cls(CERT_DATA_QE_REPORT, qe.to_bytes(), qe)

    @classmethod
    def pck_chain(cls, pem: bytes) -> CertificationData:
        return cls(CERT_DATA_PCK_CHAIN, pem)

    def to_bytes(self) -> bytes:
        return self.type.to_bytes(2, "little") + len(self.data).to_bytes(4, "little") + self.data


@dataclass(frozen=True)
class QeReportCertificationData:
    """The QE's report, its PCK signature, the QE auth data and the nested certification data."""

    qe_report: EnclaveReport
    qe_report_raw: bytes
    qe_report_signature: bytes
    qe_auth_data: bytes
    certification_data: CertificationData

    def __post_init__(self) -> None:
        require_size(self.qe_report_raw, ENCLAVE_REPORT_SIZE, "qe_report")
        require_size(self.qe_report_signature, 64, "qe_report_signature")
        if len(self.qe_auth_data) > 0xFFFF:
            raise MalformedEvidence("at most 65535 bytes", field="qe_auth_data")
        if self.certification_data.type == CERT_DATA_QE_REPORT:
            raise MalformedEvidence(
                "QE report certification data cannot nest another (type 6)",
                field="qe_certification_data.type",
            )

    @classmethod
    def build(
        cls,
        qe_report: EnclaveReport,
        qe_report_signature: bytes,
        qe_auth_data: bytes,
        certification_data: CertificationData,
    ) -> QeReportCertificationData:
        return cls(
            qe_report,
            qe_report.to_bytes(),
            qe_report_signature,
            qe_auth_data,
            certification_data,
        )

    @classmethod
    def parse(cls, reader: Reader) -> QeReportCertificationData:
        raw_reader = reader.sub(ENCLAVE_REPORT_SIZE, "qe_report")
        raw = raw_reader.rest()
        report = EnclaveReport.parse(Reader(raw, base=raw_reader.base))
        signature = reader.take(64, "qe_report_signature")
        auth_size = reader.u16("qe_auth_data.size")
        auth = reader.take(auth_size, "qe_auth_data")
        nested = CertificationData.parse(reader, "qe_certification_data", nested=True)
        return cls(report, raw, signature, auth, nested)

    def to_bytes(self) -> bytes:
        return b"".join(
            (
                self.qe_report_raw,
                self.qe_report_signature,
                len(self.qe_auth_data).to_bytes(2, "little"),
                self.qe_auth_data,
                self.certification_data.to_bytes(),
            )
        )


@dataclass(frozen=True)
class QuoteSignatureData:
    """ECDSA quote signature, attestation key and (type 6) certification data."""

    signature: bytes
    attestation_key: bytes
    certification_data: CertificationData

    def __post_init__(self) -> None:
        require_size(self.signature, 64, "quote_signature")
        require_size(self.attestation_key, 64, "attestation_key")
        if self.certification_data.qe_report_data is None:
            raise MalformedEvidence(
                f"a TDX quote carries type 6 certification data, not type "
                f"{self.certification_data.type}",
                field="certification_data.type",
            )

    @property
    def qe(self) -> QeReportCertificationData:
        qe = self.certification_data.qe_report_data
        if qe is None:  # unreachable: __post_init__ requires type 6
            raise MalformedEvidence("no QE report certification data", field="certification_data")
        return qe

    @classmethod
    def parse(cls, reader: Reader) -> QuoteSignatureData:
        signature = reader.take(64, "quote_signature")
        key = reader.take(64, "attestation_key")
        type_offset = reader.offset
        cert = CertificationData.parse(reader)
        if cert.type != CERT_DATA_QE_REPORT:
            raise MalformedEvidence(
                f"a TDX quote carries type 6 certification data, not type {cert.type}",
                field="certification_data.type",
                offset=type_offset,
            )
        return cls(signature, key, cert)

    def to_bytes(self) -> bytes:
        return self.signature + self.attestation_key + self.certification_data.to_bytes()
