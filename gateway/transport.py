"""The seam between the gateway and its enclaves: HTTP requests, and their replies.

:class:`Transport` is what the pool (attestation, keyset, health, logs) and the proxy
(chat completions) use to reach an enclave. :mod:`gateway.aiohttp_transport` is the real
one (pooled connections); :mod:`gateway.fake_transport` is the shipped fake. Every
failure to get a whole reply (refused, reset, timed out, cut mid-body) raises
:class:`gateway.errors.EnclaveUnavailable`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Protocol


class Reply(Protocol):
    """An enclave's answer; the body is read once, whole or in chunks."""

    @property
    def status(self) -> int: ...

    @property
    def headers(self) -> Mapping[str, str]:
        """Case-insensitive."""
        ...

    async def read(self) -> bytes:
        """The whole body; then the connection goes back to the pool."""
        ...

    def chunks(self) -> AsyncIterator[bytes]:
        """The body as it arrives; ends only if the body ended properly."""
        ...

    def close(self) -> None:
        """Give up on the rest of the body (the connection is dropped if unread)."""
        ...


class Transport(Protocol):
    async def request(
        self,
        method: str,
        url: str,
        *,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> Reply:
        """Send a request; return once the status and headers are in.

        ``timeout`` bounds the whole exchange (control-plane calls); without it the
        transport's connect and read timeouts apply (chat completions).
        """
        ...

    async def close(self) -> None: ...


async def fetch(transport: Transport, url: str, *, timeout: float) -> tuple[int, bytes]:
    """GET ``url`` and read it whole: for small control-plane documents."""
    reply = await transport.request("GET", url, timeout=timeout)
    try:
        return reply.status, await reply.read()
    finally:
        reply.close()
