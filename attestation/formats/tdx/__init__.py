"""Intel TDX evidence formats: quotes v4/v5, their signature data, TDREPORTs, PCK extensions.

Pure parsing and building, no I/O and no cryptographic checks (those are the verifier's).
Bad bytes raise :class:`attestation.errors.MalformedEvidence` with the field and offset.
"""

from attestation.formats.tdx.body import (
    BODY_TYPE_TDX10,
    BODY_TYPE_TDX15,
    TD_ATTRIBUTES_DEBUG,
    TdReportBody,
)
from attestation.formats.tdx.enclave_report import ENCLAVE_REPORT_SIZE, EnclaveReport
from attestation.formats.tdx.header import (
    ATTESTATION_KEY_ECDSA_P256,
    HEADER_SIZE,
    INTEL_QE_VENDOR_ID,
    TEE_TYPE_TDX,
    QuoteHeader,
)
from attestation.formats.tdx.pck_extensions import SGX_EXTENSIONS_OID, PckExtensions
from attestation.formats.tdx.quote import TdxQuote
from attestation.formats.tdx.signature import (
    CERT_DATA_PCK_CHAIN,
    CERT_DATA_QE_REPORT,
    CertificationData,
    QeReportCertificationData,
    QuoteSignatureData,
)
from attestation.formats.tdx.tdreport import (
    TDREPORT_SIZE,
    TdInfo,
    TdReport,
    TeeTcbInfo,
    is_tdreport,
)

__all__ = [
    "ATTESTATION_KEY_ECDSA_P256",
    "BODY_TYPE_TDX10",
    "BODY_TYPE_TDX15",
    "CERT_DATA_PCK_CHAIN",
    "CERT_DATA_QE_REPORT",
    "ENCLAVE_REPORT_SIZE",
    "HEADER_SIZE",
    "INTEL_QE_VENDOR_ID",
    "SGX_EXTENSIONS_OID",
    "TDREPORT_SIZE",
    "TD_ATTRIBUTES_DEBUG",
    "TEE_TYPE_TDX",
    "CertificationData",
    "EnclaveReport",
    "PckExtensions",
    "QeReportCertificationData",
    "QuoteHeader",
    "QuoteSignatureData",
    "TdInfo",
    "TdReport",
    "TdReportBody",
    "TdxQuote",
    "TeeTcbInfo",
    "is_tdreport",
]
