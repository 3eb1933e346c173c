"""An alternative transport: one pooled aiohttp session for every enclave.

``enclave_client.implementation = "aiohttp"`` selects it. The default is the leaner
:mod:`gateway.h1_transport`; ``docs/benchmarks.md`` compares the two.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator, Mapping

import aiohttp

from gateway.errors import EnclaveUnavailable

_FAILURES = (aiohttp.ClientError, asyncio.TimeoutError, OSError)


class AiohttpReply:
    __slots__ = ("_response",)

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._response = response

    @property
    def status(self) -> int:
        return self._response.status

    @property
    def headers(self) -> Mapping[str, str]:
        return self._response.headers

    async def read(self) -> bytes:
        try:
            return await self._response.read()
        except _FAILURES as exc:
            raise EnclaveUnavailable(f"reply cut: {_describe(exc)}") from None
        finally:
            self._response.release()

    async def chunks(self) -> AsyncIterator[bytes]:
        try:
            async for data in self._response.content.iter_any():
                yield data
        except _FAILURES as exc:
            raise EnclaveUnavailable(f"stream cut: {_describe(exc)}") from None

    def close(self) -> None:
        self._response.close()


class AiohttpTransport:
    def __init__(
        self,
        *,
        connect_timeout: float,
        read_timeout: float,
        max_connections: int,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self._timeout = aiohttp.ClientTimeout(
            total=None, connect=connect_timeout, sock_read=read_timeout
        )
        self._limit = max_connections
        self._ssl: ssl.SSLContext | bool = ssl_context if ssl_context is not None else True
        self._session: aiohttp.ClientSession | None = None

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None:
            connector = aiohttp.TCPConnector(
                limit=self._limit,
                limit_per_host=0,
                keepalive_timeout=4.0,
                ttl_dns_cache=300,
                ssl=self._ssl,
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                timeout=self._timeout,
                auto_decompress=False,
                skip_auto_headers=("User-Agent", "Accept-Encoding"),
            )
        return self._session

    async def request(
        self,
        method: str,
        url: str,
        *,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> AiohttpReply:
        session = self._open()
        limit = aiohttp.ClientTimeout(total=timeout) if timeout is not None else self._timeout
        try:
            response = await session.request(
                method, url, data=body, headers=headers, timeout=limit, allow_redirects=False
            )
        except _FAILURES as exc:
            refused = isinstance(exc, aiohttp.ClientConnectorError)
            raise EnclaveUnavailable(f"{method} {url}: {_describe(exc)}", refused=refused) from None
        return AiohttpReply(response)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def _describe(exc: BaseException) -> str:
    if isinstance(exc, asyncio.TimeoutError):
        return "timed out"
    return str(exc) or type(exc).__name__
