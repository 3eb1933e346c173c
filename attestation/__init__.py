"""Attestation evidence: formats (byte layouts), providers (devices) and simulators.

``attestation.formats`` is pure parsing and building; ``attestation.providers`` touch
devices; ``attestation.simulated`` signs evidence in the real formats with local roots.
The verifier may import formats only.
"""

from attestation.document import AttestationDocument
from attestation.errors import (
    AttestationError,
    InvalidReportData,
    MalformedEvidence,
    PlatformUnavailable,
    ProviderError,
)
from attestation.evidence import (
    PLATFORMS,
    REPORT_DATA_SIZE,
    Evidence,
    EvidenceProvider,
    Platform,
    check_report_data,
)
from attestation.keyset import Keyset, bind_report_data, parse_nonce

__all__ = [
    "PLATFORMS",
    "REPORT_DATA_SIZE",
    "AttestationDocument",
    "AttestationError",
    "Evidence",
    "EvidenceProvider",
    "InvalidReportData",
    "Keyset",
    "MalformedEvidence",
    "Platform",
    "PlatformUnavailable",
    "ProviderError",
    "bind_report_data",
    "check_report_data",
    "parse_nonce",
]
