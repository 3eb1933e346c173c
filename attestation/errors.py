"""Errors raised by the attestation package.

The tree, drawn once::

    AttestationError                 base of everything raised here
    ├── MalformedEvidence            bytes that are not well-formed evidence (bad input)
    │                                carries the offset and field where parsing stopped
    ├── InvalidReportData            report_data that is not exactly 64 bytes
    └── ProviderError                the device or service could not produce evidence
        └── PlatformUnavailable      this platform is not present on this machine
"""

from __future__ import annotations


class AttestationError(Exception):
    """Base class for every error raised by :mod:`attestation`."""


class MalformedEvidence(AttestationError, ValueError):
    """Evidence bytes are not well formed. ``offset`` and ``field`` say where, when known."""

    def __init__(
        self, message: str, *, field: str | None = None, offset: int | None = None
    ) -> None:
        self.field = field
        self.offset = offset
        where = []
        if field:
            where.append(field)
        if offset is not None:
            where.append(f"at offset 0x{offset:x}")
        super().__init__(f"{' '.join(where)}: {message}" if where else message)


class InvalidReportData(AttestationError, ValueError):
    """report_data must be exactly 64 bytes."""


class ProviderError(AttestationError):
    """The attestation device or service failed to produce evidence."""


class PlatformUnavailable(ProviderError):
    """The requested platform's device or interface is not present here."""
