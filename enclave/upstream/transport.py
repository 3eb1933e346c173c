"""What the proxy needs from an HTTP client to reach an upstream provider.

``Transport.post`` returns once the upstream's status line and headers arrived, or
raises :class:`enclave.errors.UpstreamUnavailable`. The :class:`Reply` then yields the
body as it arrives and keeps a running SHA-256 over *every* byte received, which the
receipt records as the upstream's raw response hash. Reading a body that the upstream
cuts (connection reset, time-out between bytes) raises :class:`UpstreamCut`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Protocol

from enclave.errors import EnclaveError


class UpstreamCut(EnclaveError):
    """The upstream's body ended early (reset, incomplete chunked body, time-out)."""

    def __init__(self, message: str, *, timeout: bool = False) -> None:
        self.timeout = timeout
        super().__init__(message)


class Reply(Protocol):
    """An upstream response whose headers have arrived."""

    status: int
    """The upstream HTTP status."""
    spki_sha256: str | None
    """sha256 (hex) of the upstream TLS leaf certificate's SubjectPublicKeyInfo DER."""

    def header(self, name: str) -> str | None:
        """A response header (case-insensitive), or None."""
        ...

    def chunks(self) -> AsyncIterator[bytes]:
        """The body as it arrives; raises :class:`UpstreamCut` if it ends early."""
        ...

    async def read(self) -> bytes:
        """The whole body; raises :class:`UpstreamCut` if it ends early."""
        ...

    def raw_sha256(self) -> str:
        """sha256 (hex) of every body byte received so far."""
        ...

    def close(self) -> None:
        """Release the connection (idempotent)."""
        ...


class Transport(Protocol):
    async def post(self, url: str, headers: Mapping[str, str], body: bytes) -> Reply:
        """Send a POST; return when the status and headers arrived."""
        ...

    async def close(self) -> None: ...
