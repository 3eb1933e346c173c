"""The production transport: a lean HTTP/1.1 client on asyncio protocols and httptools.

Why not a general client: the enclave makes one kind of call (a POST with a JSON body,
answered with JSON or server-sent events) to a handful of hosts, on the hot path of every
request. Measured here, aiohttp costs nearly twice the CPU per request and httpx ten times
(``docs/benchmarks.md``); this client writes each request in one ``write`` and parses the
answer with the C parser of ``httptools``, like the uvicorn server in front of it.

What it does: TLS with certificate and host name verification (always), a pool of
keep-alive connections per host (LIFO, idle ones dropped after ``IDLE_SECONDS``), bodies
with ``content-length``, chunked or delimited by the connection closing, a time-out for
connecting and one for each wait on the upstream, and flow control (reading pauses while
``PAUSE_AT`` bytes wait for the proxy). What it does not: redirects, compression (the
dialects ask for ``identity``), proxies, HTTP/2.
"""

from __future__ import annotations

import asyncio
import hashlib
import ssl
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Mapping
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

import httptools

from enclave.errors import UpstreamUnavailable
from enclave.upstream.tls import peer_spki_sha256, tls_context
from enclave.upstream.transport import UpstreamCut

IDLE_SECONDS = 15.0
DRAIN_SECONDS = 1.0
PAUSE_AT = 1024 * 1024
MAX_ANSWER = 64 * 1024 * 1024  # a whole (non-streamed) answer larger than this is refused
_FORBIDDEN = frozenset("\r\n\x00")


@lru_cache(maxsize=64)
def _target(url: str) -> tuple[str, int, str, bytes]:
    """``(host, port, path, host header)`` of an https URL."""
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        raise ValueError(f"not an https URL: {url}")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return parts.hostname, parts.port or 443, path, parts.netloc.encode("ascii")


class _Connection(asyncio.Protocol):
    """One keep-alive connection; carries one exchange at a time."""

    def __init__(self, loop: asyncio.AbstractEventLoop, key: tuple[str, int]) -> None:
        self._loop = loop
        self.key = key
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.spki_sha256: str | None = None
        self.idle_since = 0.0
        self._reset()

    def _reset(self) -> None:
        self._parser = httptools.HttpResponseParser(self)
        self.status = 0
        self.headers: dict[str, str] = {}
        self.keep_alive = False
        self.complete = False
        self.failure: str | None = None
        self._head: asyncio.Future[None] = self._loop.create_future()
        self._chunks: deque[bytes] = deque()
        self._buffered = 0
        self._paused = False
        self._waiter: asyncio.Future[None] | None = None

    def send(self, request: bytes) -> None:
        assert self.transport is not None
        self._reset()
        self.transport.write(request)

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.spki_sha256 = peer_spki_sha256(transport.get_extra_info("ssl_object"))

    def data_received(self, data: bytes) -> None:
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(f"the upstream sent malformed HTTP: {exc}")

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self._head.done() and not self.complete and self.failure is None:
            framed = "content-length" in self.headers or "transfer-encoding" in self.headers
            if framed:
                self._fail("the upstream closed the connection before the end of its answer")
            else:
                self.on_message_complete()  # a body delimited by the connection closing
        elif not self._head.done():
            self._fail("the upstream closed the connection before answering")

    # httptools callbacks
    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers[name.decode("latin-1").lower()] = value.decode("latin-1")

    def on_headers_complete(self) -> None:
        self.status = self._parser.get_status_code()
        self.keep_alive = self._parser.should_keep_alive()
        if not self._head.done():
            self._head.set_result(None)

    def on_body(self, body: bytes) -> None:
        self._chunks.append(body)
        self._buffered += len(body)
        if self._buffered > PAUSE_AT and not self._paused and self.transport is not None:
            self._paused = True
            self.transport.pause_reading()
        self._wake()

    def on_message_complete(self) -> None:
        self.complete = True
        self._wake()

    # the reply's side
    def _fail(self, message: str) -> None:
        self.failure = message
        if not self._head.done():
            self._head.set_exception(UpstreamUnavailable(message))
            self._head.exception()  # retrieved by whoever awaits it; never "unhandled"
        self._wake()
        if self.transport is not None:
            self.transport.close()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def take(self) -> bytes:
        """Everything received since the last call (empty when nothing new)."""
        data = b"".join(self._chunks)
        self._chunks.clear()
        self._buffered = 0
        if self._paused and self.transport is not None:
            self._paused = False
            self.transport.resume_reading()
        return data

    async def wait_head(self, timeout: float) -> None:
        await _within(self._head, timeout, lambda: UpstreamUnavailable(
            f"the upstream did not answer within {timeout:g} s", timeout=True
        ))  # fmt: skip

    async def wait_body(self, timeout: float) -> None:
        if self._chunks or self.complete or self.failure is not None:
            return
        self._waiter = self._loop.create_future()
        await _within(self._waiter, timeout, lambda: UpstreamCut(
            f"the upstream sent nothing for {timeout:g} s", timeout=True
        ))  # fmt: skip


async def _within(
    future: asyncio.Future[None], timeout: float, error: Callable[[], Exception]
) -> None:
    """Await ``future``; after ``timeout`` seconds raise ``error()`` instead."""
    if future.done():
        return future.result()

    def expire() -> None:
        if not future.done():
            future.set_exception(error())

    handle = asyncio.get_running_loop().call_later(timeout, expire)
    try:
        await future
    finally:
        handle.cancel()


class H1Reply:
    """An answer whose status and headers have arrived."""

    __slots__ = (
        "_conn", "_hash", "_read_timeout", "_released", "_transport", "spki_sha256", "status",
    )  # fmt: skip

    def __init__(self, transport: H1Transport, conn: _Connection, read_timeout: float) -> None:
        self._transport = transport
        self._conn = conn
        self._read_timeout = read_timeout
        self._hash = hashlib.sha256()
        self._released = False
        self.status = conn.status
        self.spki_sha256 = conn.spki_sha256

    def header(self, name: str) -> str | None:
        return self._conn.headers.get(name.lower())

    async def chunks(self) -> AsyncIterator[bytes]:
        conn = self._conn
        while True:
            await conn.wait_body(self._read_timeout)
            data = conn.take()
            if data:
                self._hash.update(data)
                yield data
            elif conn.failure is not None:
                raise UpstreamCut(conn.failure)
            elif conn.complete:
                return

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
        if not self._released:
            self._released = True
            self._transport.release(self._conn)


class H1Transport:
    """Pooled HTTP/1.1 over TLS. Create it inside the running event loop."""

    def __init__(
        self,
        *,
        ca_bundle: Path | None,
        connect_timeout: float,
        read_timeout: float,
        max_connections: int,
    ) -> None:
        self._ssl = tls_context(ca_bundle)
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._slots = asyncio.Semaphore(max_connections)
        self._idle: dict[tuple[str, int], list[_Connection]] = {}
        self._max_idle = max_connections
        self._draining: set[asyncio.Task[None]] = set()
        self.connections_made = 0

    async def post(self, url: str, headers: Mapping[str, str], body: bytes) -> H1Reply:
        host, port, path, host_header = _target(url)
        request = _request(path, host_header, headers, body)
        await self._slots.acquire()
        conn = None
        try:
            conn = self._reuse(host, port) or await self._connect(host, port)
            conn.send(request)
            await conn.wait_head(self._read_timeout)
        except BaseException:
            self._slots.release()
            if conn is not None and conn.transport is not None:
                conn.transport.close()
            raise
        return H1Reply(self, conn, self._read_timeout)

    def release(self, conn: _Connection) -> None:
        """Back to the pool when the exchange ended cleanly and both sides keep it alive.

        A stream the proxy stopped reading at its end marker may still owe the chunked
        terminator: it gets ``DRAIN_SECONDS`` to arrive, in the background, before the
        connection is given up.
        """
        self._slots.release()
        if not conn.complete and conn.failure is None and not conn.closed and conn.keep_alive:
            task = asyncio.get_running_loop().create_task(self._drain(conn))
            self._draining.add(task)
            task.add_done_callback(self._draining.discard)
            return
        self._keep_or_close(conn)

    async def _drain(self, conn: _Connection) -> None:
        try:
            async with asyncio.timeout(DRAIN_SECONDS):
                while not conn.complete and conn.failure is None:
                    await conn.wait_body(DRAIN_SECONDS)
                    conn.take()
        except (TimeoutError, UpstreamCut):
            pass
        self._keep_or_close(conn)

    def _keep_or_close(self, conn: _Connection) -> None:
        if conn.complete and conn.keep_alive and conn.failure is None and not conn.closed:
            conn.idle_since = time.monotonic()
            pool = self._idle.setdefault(conn.key, [])
            if len(pool) < self._max_idle:
                pool.append(conn)
                return
        if conn.transport is not None:
            conn.transport.close()

    def _reuse(self, host: str, port: int) -> _Connection | None:
        pool = self._idle.get((host, port))
        now = time.monotonic()
        while pool:
            conn = pool.pop()
            if not conn.closed and now - conn.idle_since < IDLE_SECONDS:
                return conn
            if conn.transport is not None:
                conn.transport.close()
        return None

    async def _connect(self, host: str, port: int) -> _Connection:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self._connect_timeout):
                _, conn = await loop.create_connection(
                    lambda: _Connection(loop, (host, port)),
                    host,
                    port,
                    ssl=self._ssl,
                    server_hostname=host,
                )
        except TimeoutError:
            raise UpstreamUnavailable(
                f"no connection to {host}:{port} within {self._connect_timeout:g} s", timeout=True
            ) from None
        except ssl.SSLCertVerificationError as exc:
            raise UpstreamUnavailable(
                f"TLS certificate verification failed for {host}: {exc.verify_message}"
            ) from None
        except (OSError, ssl.SSLError) as exc:
            raise UpstreamUnavailable(f"cannot reach {host}:{port}: {exc}") from None
        self.connections_made += 1
        return conn

    async def drained(self) -> None:
        """Wait until every connection being drained went back to the pool or was closed."""
        while self._draining:
            await asyncio.gather(*self._draining, return_exceptions=True)

    async def close(self) -> None:
        for task in list(self._draining):
            task.cancel()
        for pool in self._idle.values():
            for conn in pool:
                if conn.transport is not None:
                    conn.transport.close()
        self._idle.clear()


def _request(path: str, host: bytes, headers: Mapping[str, str], body: bytes) -> bytes:
    lines = [b"POST ", path.encode("ascii"), b" HTTP/1.1\r\nhost: ", host, b"\r\n"]
    for name, value in headers.items():
        if _FORBIDDEN.intersection(name) or _FORBIDDEN.intersection(value):
            raise ValueError(f"header {name!r} holds a line break or NUL")
        lines += [name.encode("latin-1"), b": ", value.encode("latin-1"), b"\r\n"]
    lines += [b"content-length: ", str(len(body)).encode(), b"\r\n\r\n", body]
    return b"".join(lines)
