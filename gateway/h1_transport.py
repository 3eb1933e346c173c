"""The default transport: a lean HTTP/1.1 client on asyncio and ``httptools``.

The gateway talks to a handful of enclaves, over and over, with small requests whose
bytes it already has. A general-purpose client pays for generality on every request;
measured against ``aiohttp`` (``bench/bench_gateway.py --transport``, figures in
``docs/benchmarks.md``) this one costs a fraction of the CPU time per request. What it does:

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
from collections.abc import AsyncIterator, Mapping
from urllib.parse import urlsplit

import httptools

from gateway.errors import EnclaveUnavailable

HIGH_WATER = 256 * 1024
LOW_WATER = 64 * 1024
Origin = tuple[str, str, int]  # scheme, host, port


class Headers(dict[str, str]):
    """Reply headers: lower-case names (the last value of a repeated header wins)."""

    def get(self, key: str, default: str | None = None) -> str | None:  # type: ignore[override]
        return super().get(key.lower(), default)

    def __getitem__(self, key: str) -> str:
        return super().__getitem__(key.lower())

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and super().__contains__(key.lower())


class H1Reply:
    """One response, filled in by its connection as bytes arrive."""

    __slots__ = (
        "_chunks",
        "_conn",
        "_deadline",
        "_done",
        "_error",
        "_got_bytes",
        "_read_timeout",
        "_size",
        "_waiter",
        "head_ready",
        "headers",
        "status",
    )  # fmt: skip

    def __init__(self, conn: _Connection, read_timeout: float, deadline: float | None) -> None:
        self._conn = conn
        self._read_timeout = read_timeout
        self._deadline = deadline
        self.status = 0
        self.headers = Headers()
        self.head_ready: asyncio.Future[None] = conn.loop.create_future()
        self._chunks: collections.deque[bytes] = collections.deque()
        self._size = 0
        self._done = False
        self._error: EnclaveUnavailable | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._got_bytes = False

    # -- fed by the connection -----------------------------------------------------------

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _push(self, data: bytes) -> None:
        self._chunks.append(data)
        self._size += len(data)
        if self._size > HIGH_WATER:
            self._conn.pause()
        self._wake()

    def _finish(self) -> None:
        self._done = True
        self._wake()

    def _fail(self, error: EnclaveUnavailable) -> None:
        if self._done:
            return
        self._error = error
        if not self.head_ready.done():
            self.head_ready.set_exception(error)
            self.head_ready.exception()  # retrieved here; the caller re-raises its own
        self._wake()

    # -- the consumer's side -------------------------------------------------------------

    def _timeout(self) -> float:
        if self._deadline is None:
            return self._read_timeout
        return max(0.0, min(self._read_timeout, self._deadline - time.monotonic()))

    async def _wait(self) -> None:
        self._waiter = self._conn.loop.create_future()
        try:
            async with asyncio.timeout(self._timeout()):
                await self._waiter
        except TimeoutError:
            self._conn.abort()
            raise EnclaveUnavailable("timed out waiting for the reply") from None
        finally:
            self._waiter = None

    async def read(self) -> bytes:
        while not self._done:
            if self._error is not None:
                raise self._error
            await self._wait()
        body = b"".join(self._chunks)
        self._chunks.clear()
        return body

    async def chunks(self) -> AsyncIterator[bytes]:
        while True:
            if self._chunks:
                data = self._chunks.popleft()
                self._size -= len(data)
                if self._size < LOW_WATER:
                    self._conn.resume()
                yield data
            elif self._done:
                return
            elif self._error is not None:
                raise self._error
            else:
                await self._wait()

    def close(self) -> None:
        """Give up on the rest: a connection in the middle of a reply cannot be reused."""
        if not self._done:
            self._conn.abort()


class _Connection(asyncio.Protocol):
    def __init__(self, pool: H1Transport, origin: Origin) -> None:
        self.pool = pool
        self.origin = origin
        self.loop = asyncio.get_running_loop()
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.reply: H1Reply | None = None
        self.closed = False
        self.reused = False
        self.idle_since = 0.0
        self._paused = False
        self._raw_headers: list[tuple[bytes, bytes]] = []

    # -- asyncio.Protocol ----------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        reply = self.reply
        if reply is None:  # bytes nobody asked for: the connection is unusable
            self.abort()
            return
        reply._got_bytes = True
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            reply._fail(EnclaveUnavailable(f"malformed reply: {exc}"))
            self.abort()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.pool._forget(self)
        if self.reply is not None:
            self.reply._fail(EnclaveUnavailable("connection lost before the reply ended"))
            self.reply = None

    # -- httptools callbacks -------------------------------------------------------------

    def on_header(self, name: bytes, value: bytes) -> None:
        self._raw_headers.append((name, value))

    def on_headers_complete(self) -> None:
        reply = self.reply
        assert reply is not None
        reply.status = self.parser.get_status_code()
        reply.headers = Headers(
            (n.decode("latin-1").lower(), v.decode("latin-1")) for n, v in self._raw_headers
        )
        self._raw_headers = []
        if not reply.head_ready.done():
            reply.head_ready.set_result(None)

    def on_body(self, body: bytes) -> None:
        if self.reply is not None:
            self.reply._push(body)

    def on_message_complete(self) -> None:
        reply = self.reply
        self.reply = None
        if reply is not None:
            reply._finish()
        if self.parser.should_keep_alive() and not self.closed:
            self.pool._checkin(self)
        else:
            self.abort()

    # -- used by the pool and the reply --------------------------------------------------

    def send(self, data: bytes, read_timeout: float, deadline: float | None) -> H1Reply:
        assert self.transport is not None
        self.reply = H1Reply(self, read_timeout, deadline)
        self.transport.write(data)
        return self.reply

    def pause(self) -> None:
        if not self._paused and self.transport is not None:
            self._paused = True
            self.transport.pause_reading()

    def resume(self) -> None:
        if self._paused and self.transport is not None and not self.closed:
            self._paused = False
            self.transport.resume_reading()

    def abort(self) -> None:
        if not self.closed and self.transport is not None:
            self.closed = True
            self.transport.abort()


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
        self._idle: dict[Origin, list[_Connection]] = {}
        self._open: set[_Connection] = set()
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

    def _checkout(self, origin: Origin) -> _Connection | None:
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

    def _checkin(self, conn: _Connection) -> None:
        conn.idle_since = time.monotonic()
        self._idle.setdefault(conn.origin, []).append(conn)
        self._wake_one()

    def _forget(self, conn: _Connection) -> None:
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
        oldest: _Connection | None = None
        for idle in self._idle.values():
            for conn in idle:
                if oldest is None or conn.idle_since < oldest.idle_since:
                    oldest = conn
        if oldest is None:
            return False
        self._idle[oldest.origin].remove(oldest)
        oldest.abort()
        return True

    async def _acquire(self, origin: Origin) -> _Connection:
        while True:
            conn = self._checkout(origin)
            if conn is not None:
                return conn
            if self._count < self._max or self._evict_idle():
                return await self._connect(origin)
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            await waiter

    async def _connect(self, origin: Origin) -> _Connection:
        scheme, host, port = origin
        loop = asyncio.get_running_loop()
        context = (self._ssl or ssl.create_default_context()) if scheme == "https" else None
        self._count += 1
        try:
            async with asyncio.timeout(self._connect_timeout):
                _, conn = await loop.create_connection(
                    lambda: _Connection(self, origin), host, port, ssl=context
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
