"""One pooled HTTP/1.1 connection and the reply it is filling in (see :mod:`gateway.h1_transport`).

:class:`H1Connection` is an asyncio protocol that feeds what arrives to ``httptools``;
:class:`H1Reply` is what the caller holds: status and headers once they are in, then the
body whole or chunk by chunk, with back-pressure (reading pauses while more than
``HIGH_WATER`` bytes wait for a slow consumer). A connection goes back to its pool when a
reply ends properly and the server keeps it alive, and leaves the pool when it closes.
"""

from __future__ import annotations

import asyncio
import collections
import time
from collections.abc import AsyncIterator
from typing import Protocol

import httptools

from gateway.errors import EnclaveUnavailable

HIGH_WATER = 256 * 1024
LOW_WATER = 64 * 1024
Origin = tuple[str, str, int]  # scheme, host, port


class ConnectionPool(Protocol):
    def checkin(self, conn: H1Connection) -> None:
        """``conn`` finished a reply and may be reused."""
        ...

    def forget(self, conn: H1Connection) -> None:
        """``conn`` is closed."""
        ...


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

    def __init__(self, conn: H1Connection, read_timeout: float, deadline: float | None) -> None:
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


class H1Connection(asyncio.Protocol):
    def __init__(self, pool: ConnectionPool, origin: Origin) -> None:
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
        self.pool.forget(self)
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
            self.pool.checkin(self)
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
