"""The production transport: aiohttp with a pooled, certificate-verifying TLS connector.

aiohttp is used rather than httpx because its per-request overhead is several times
lower, which matters against the enclave's latency budget (``docs/benchmarks.md``).
Responses are not decompressed (``Accept-Encoding: identity`` is sent), so the bytes
hashed are the bytes the upstream sent.
"""

from __future__ import annotations

import hashlib
import ssl
from collections.abc import AsyncIterator, Mapping
from functools import lru_cache
from pathlib import Path

import aiohttp
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from enclave.errors import UpstreamUnavailable
from enclave.upstream.transport import UpstreamCut

MAX_ANSWER = 64 * 1024 * 1024  # a whole (non-streamed) upstream answer larger than this is refused


@lru_cache(maxsize=64)
def spki_sha256(cert_der: bytes) -> str:
    """sha256 (hex) of a DER certificate's SubjectPublicKeyInfo."""
    cert = x509.load_der_x509_certificate(cert_der)
    spki = cert.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(spki).hexdigest()


def tls_context(ca_bundle: Path | None) -> ssl.SSLContext:
    """Verify hostnames and chains, against ``ca_bundle`` or the system trust store."""
    context = ssl.create_default_context(cafile=str(ca_bundle) if ca_bundle else None)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


class AiohttpReply:
    __slots__ = ("_hash", "_resp", "spki_sha256", "status")

    def __init__(self, resp: aiohttp.ClientResponse, spki: str | None) -> None:
        self._resp = resp
        self._hash = hashlib.sha256()
        self.status = resp.status
        self.spki_sha256 = spki

    def header(self, name: str) -> str | None:
        return self._resp.headers.get(name)

    async def chunks(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._resp.content.iter_any():
                self._hash.update(chunk)
                yield chunk
        except TimeoutError as exc:
            raise UpstreamCut(
                f"upstream stopped sending: {exc or 'time-out'}", timeout=True
            ) from None
        except aiohttp.ClientError as exc:
            raise UpstreamCut(f"upstream body ended early: {_describe(exc)}") from None

    async def read(self) -> bytes:
        body = bytearray()
        async for chunk in self.chunks():
            body += chunk
            if len(body) > MAX_ANSWER:
                raise UpstreamCut(f"the upstream's answer exceeds {MAX_ANSWER} bytes")
        return bytes(body)

    def raw_sha256(self) -> str:
        return self._hash.hexdigest()

    def close(self) -> None:
        if self._resp.content.at_eof():
            self._resp.release()
        else:
            self._resp.close()


class AiohttpTransport:
    """One pooled client session for all upstreams. Create it inside the running loop."""

    def __init__(
        self,
        *,
        ca_bundle: Path | None,
        connect_timeout: float,
        read_timeout: float,
        max_connections: int,
    ) -> None:
        connector = aiohttp.TCPConnector(
            ssl=tls_context(ca_bundle), limit=max_connections, ttl_dns_cache=300
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            timeout=aiohttp.ClientTimeout(
                total=None, sock_connect=connect_timeout, sock_read=read_timeout
            ),
            auto_decompress=False,
            skip_auto_headers=("User-Agent",),
        )

    async def post(self, url: str, headers: Mapping[str, str], body: bytes) -> AiohttpReply:
        try:
            resp = await self._session.post(
                url, data=body, headers=dict(headers), allow_redirects=False
            )
        except TimeoutError as exc:
            raise UpstreamUnavailable(
                f"upstream did not answer in time: {exc or 'time-out'}", timeout=True
            ) from None
        except aiohttp.ClientError as exc:
            raise UpstreamUnavailable(f"cannot reach the upstream: {_describe(exc)}") from None
        return AiohttpReply(resp, _peer_spki(resp))

    async def close(self) -> None:
        await self._session.close()


def _peer_spki(resp: aiohttp.ClientResponse) -> str | None:
    """The SPKI hash of the certificate on the connection that carried ``resp``.

    A small answer can arrive whole with its headers, in which case aiohttp has already
    returned the connection to the pool and ``resp.connection`` is None; the response
    still holds the protocol it was read from (``_protocol``, set for every response),
    whose transport is the TLS connection.
    """
    connection = resp.connection
    protocol = connection.protocol if connection is not None else getattr(resp, "_protocol", None)
    transport = getattr(protocol, "transport", None)
    ssl_object = transport.get_extra_info("ssl_object") if transport is not None else None
    if ssl_object is None:
        return None
    der = ssl_object.getpeercert(binary_form=True)
    return spki_sha256(der) if der else None


def _describe(exc: BaseException) -> str:
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        return f"TLS certificate verification failed ({exc.certificate_error})"
    if isinstance(exc, aiohttp.ClientSSLError):
        return "TLS handshake failed"
    return f"{type(exc).__name__}: {exc}"
