"""The default transport: a lean HTTP/1.1 client on asyncio and ``httptools``.

The gateway talks to a handful of enclaves, over and over, with small requests whose
bytes it already has. A general-purpose client pays for generality on every request;
measured against ``aiohttp`` (``bench/bench_clients.py``, figures in ``docs/benchmarks.md``)
this one costs a fraction of the CPU time per request. What it does:

- keep-alive connections pooled per origin, reused last-in first-out; an idle connection is
  dropped after ``idle_seconds`` (below the enclave server's keep-alive timeout), and one
  the server closed leaves the pool the moment its FIN arrives;
- a request goes out in one write (head and body), with ``content-length``;
- the response is parsed by ``httptools`` (the parser uvicorn uses): ``content-length`` or
  chunked bodies, delivered whole (:meth:`H1Reply.read`) or as they arrive
  (:meth:`H1Reply.chunks`), with back-pressure: reading from the socket pauses while more
  than ``HIGH_WATER`` bytes wait for a slow consumer;
- a body that ends without its proper end (connection lost, bad framing) is an error, never
  a short success;
- timeouts: connecting, waiting for each next byte of the reply, and for control-plane
  calls a bound on the whole exchange;
- a reused connection that dies before a single byte of the reply came back is retried
  once on a fresh one (the server closed it while idle: the classic keep-alive race).
"""

from __future__ import annotations

import asyncio
import collections
import ssl
import time
from collections.abc import Mapping
from urllib.parse import urlsplit

from gateway.errors import EnclaveUnavailable
from gateway.h1_connection import H1Connection, H1Reply, Origin

__all__ = ["H1Reply", "H1Transport"]


class H1Transport:
    """:class:`gateway.transport.Transport` over pooled HTTP/1.1 connections.

    At most ``max_connections`` are open at once (idle ones included); a request that
    finds them all busy waits for one, closing an idle connection to another origin first.
    """

    def __init__(
        self,
        *,
        connect_timeout: float,
        read_timeout: float,
        max_connections: int,
        idle_seconds: float = 4.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._idle_seconds = idle_seconds
        self._ssl = ssl_context
        self._max = max_connections
        self._count = 0  # open connections, and connections being opened
        self._idle: dict[Origin, list[H1Connection]] = {}
        self._open: set[H1Connection] = set()
        self._waiters: collections.deque[asyncio.Future[None]] = collections.deque()
        self._targets: dict[str, tuple[Origin, bytes]] = {}

    def _target(self, url: str) -> tuple[Origin, bytes]:
        """Origin and request-line target of ``url``, cached (the gateway reuses a few URLs)."""
        known = self._targets.get(url)
        if known is None:
            parts = urlsplit(url)
            scheme = parts.scheme
            port = parts.port or (443 if scheme == "https" else 80)
            path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            known = ((scheme, parts.hostname or "", port), path.encode("latin-1"))
            if len(self._targets) < 10_000:
                self._targets[url] = known
        return known

    def _checkout(self, origin: Origin) -> H1Connection | None:
        idle = self._idle.get(origin)
        now = time.monotonic()
        while idle:
            conn = idle.pop()
            if conn.closed:
                continue
            if now - conn.idle_since > self._idle_seconds:
                conn.abort()
                continue
            conn.reused = True
            return conn
        return None

    def checkin(self, conn: H1Connection) -> None:
        conn.idle_since = time.monotonic()
        self._idle.setdefault(conn.origin, []).append(conn)
        self._wake_one()

    def forget(self, conn: H1Connection) -> None:
        if conn in self._open:
            self._open.discard(conn)
            self._count -= 1
        idle = self._idle.get(conn.origin)
        if idle and conn in idle:
            idle.remove(conn)
        self._wake_one()

    def _wake_one(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    def _evict_idle(self) -> bool:
        """Close the longest-idle connection (of any origin); False if none is idle."""
        oldest: H1Connection | None = None
        for idle in self._idle.values():
            for conn in idle:
                if oldest is None or conn.idle_since < oldest.idle_since:
                    oldest = conn
        if oldest is None:
            return False
        self._idle[oldest.origin].remove(oldest)
        oldest.abort()
        return True

    async def _acquire(self, origin: Origin) -> H1Connection:
        while True:
            conn = self._checkout(origin)
            if conn is not None:
                return conn
            if self._count < self._max or self._evict_idle():
                return await self._connect(origin)
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            await waiter

    async def _connect(self, origin: Origin) -> H1Connection:
        scheme, host, port = origin
        loop = asyncio.get_running_loop()
        context = (self._ssl or ssl.create_default_context()) if scheme == "https" else None
        self._count += 1
        try:
            async with asyncio.timeout(self._connect_timeout):
                _, conn = await loop.create_connection(
                    lambda: H1Connection(self, origin), host, port, ssl=context
                )
        except (OSError, TimeoutError) as exc:
            self._count -= 1
            self._wake_one()
            reason = "timed out" if isinstance(exc, TimeoutError) else str(exc)
            raise EnclaveUnavailable(
                f"cannot connect to {host}:{port}: {reason}", refused=True
            ) from None
        except BaseException:
            self._count -= 1
            raise
        self._open.add(conn)
        return conn

    async def request(
        self,
        method: str,
        url: str,
        *,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> H1Reply:
        origin, target = self._target(url)
        host = origin[1] if origin[2] in (80, 443) else f"{origin[1]}:{origin[2]}"
        lines = [method.encode("ascii"), b" ", target, b" HTTP/1.1\r\nhost: ", host.encode("idna")]
        for name, value in (headers or {}).items():
            lines += [b"\r\n", name.encode("latin-1"), b": ", value.encode("latin-1")]
        if body is not None or method in ("POST", "PUT", "PATCH"):
            lines += [b"\r\ncontent-length: ", str(len(body or b"")).encode()]
        lines += [b"\r\n\r\n", body or b""]
        data = b"".join(lines)
        deadline = None if timeout is None else time.monotonic() + timeout
        read_timeout = self._read_timeout if timeout is None else timeout
        for _attempt in range(2):
            conn = await self._acquire(origin)
            reply = conn.send(data, read_timeout, deadline)
            try:
                async with asyncio.timeout(reply._timeout()):
                    await reply.head_ready
            except TimeoutError:
                conn.abort()
                raise EnclaveUnavailable("timed out waiting for the reply") from None
            except EnclaveUnavailable:
                if conn.reused and not reply._got_bytes:
                    continue  # the server had closed this idle connection: try a fresh one
                raise
            except BaseException:
                conn.abort()  # cancelled while waiting: the connection is mid-exchange
                raise
            return reply
        raise EnclaveUnavailable("the connection was closed before the reply")

    async def close(self) -> None:
        for conn in list(self._open):
            conn.abort()
        self._idle.clear()
