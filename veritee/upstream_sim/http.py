"""HTTP/1.1 over asyncio, with the control the simulator needs over every byte.

A small server protocol on the C parser of ``httptools``: keep-alive, pipelining (answered
in order), ``Expect: 100-continue``, Content-Length and chunked responses, write
back-pressure, and the deliberate misbehaviour the faults need (a close without finishing
the body, a TCP reset). A general framework would hide exactly those.

The application is a callable ``(request, connection) -> coroutine | None``: ``None``
means it answered synchronously (the fast path); a coroutine is run as a task, cancelled
when the client goes away or the server stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import struct
import time
from collections import deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from email.utils import formatdate
from http import HTTPStatus
from typing import Any, cast

import httptools

Headers = tuple[tuple[str, str], ...]
App = Callable[["Request", "Connection"], Coroutine[Any, Any, None] | None]

_MAX_QUEUED = 16  # pipelined requests buffered before we stop reading
_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Request:
    """One parsed request. Header names are lower-case; repeated headers are comma-joined."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes
    keep_alive: bool


class Connection(asyncio.Protocol):
    """One client connection: parses requests, runs the app, writes responses."""

    def __init__(self, app: App, registry: set[Connection], max_body: int) -> None:
        self._app = app
        self._registry = registry
        self._max_body = max_body
        self._parser = httptools.HttpRequestParser(self)
        self._transport: asyncio.Transport | None = None
        self._queue: deque[Request] = deque()
        self._task: asyncio.Task[None] | None = None
        self._busy = False
        self._paused = False
        self._keep_alive = True
        self._refused = False
        self._writable: asyncio.Future[None] | None = None
        self.lost: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._reset_message()

    # -- asyncio.Protocol -------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        self._registry.add(self)

    def data_received(self, data: bytes) -> None:
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._refuse(HTTPStatus.BAD_REQUEST, "upgrade is not supported")
        except httptools.HttpParserError:
            self._refuse(HTTPStatus.BAD_REQUEST, "malformed HTTP request")

    def connection_lost(self, exc: Exception | None) -> None:
        self._registry.discard(self)
        if not self.lost.done():
            self.lost.set_result(None)
        if self._task is not None:
            self._task.cancel()
        if self._writable is not None and not self._writable.done():
            self._writable.set_result(None)

    def pause_writing(self) -> None:
        self._writable = asyncio.get_running_loop().create_future()

    def resume_writing(self) -> None:
        if self._writable is not None and not self._writable.done():
            self._writable.set_result(None)
        self._writable = None

    # -- httptools callbacks ----------------------------------------------------------
    def _reset_message(self) -> None:
        self._url = b""
        self._headers: dict[str, str] = {}
        self._body: list[bytes] = []
        self._size = 0

    def on_message_begin(self) -> None:
        self._reset_message()

    def on_url(self, url: bytes) -> None:
        self._url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        key = name.decode("latin-1").lower()
        text = value.decode("latin-1")
        self._headers[key] = f"{self._headers[key]},{text}" if key in self._headers else text

    def on_headers_complete(self) -> None:
        if self._headers.get("expect", "").lower() == "100-continue" and self._transport:
            self._transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")

    def on_body(self, body: bytes) -> None:
        self._size += len(body)
        if self._size <= self._max_body:
            self._body.append(body)
        elif not self._refused:
            self._refuse(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "request body too large")

    def on_message_complete(self) -> None:
        if self._refused:
            return
        path, _, query = self._url.decode("latin-1").partition("?")
        request = Request(
            method=self._parser.get_method().decode("latin-1"),
            path=path,
            query=query,
            headers=self._headers,
            body=b"".join(self._body),
            keep_alive=self._parser.should_keep_alive(),
        )
        self._queue.append(request)
        if len(self._queue) > _MAX_QUEUED and self._transport and not self._paused:
            self._paused = True
            self._transport.pause_reading()
        if not self._busy:
            self._next()

    # -- running the app --------------------------------------------------------------
    def _next(self) -> None:
        while self._queue and not self.closing:
            self._busy = True
            request = self._queue.popleft()
            self._keep_alive = request.keep_alive
            coro = self._app(request, self)
            if coro is not None:
                self._task = asyncio.get_running_loop().create_task(coro)
                self._task.add_done_callback(self._finished)
                return
            self._end_exchange()
        self._busy = False
        if self._paused and self._transport and not self.closing:
            self._paused = False
            self._transport.resume_reading()

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._task = None
        if not task.cancelled() and task.exception() is not None:
            _log.error("upstream-sim handler failed", exc_info=task.exception())
            self.abort()
            return
        self._end_exchange()
        self._next()

    def _end_exchange(self) -> None:
        if not self._keep_alive and not self.closing:
            self.close()

    # -- writing ----------------------------------------------------------------------
    @property
    def closing(self) -> bool:
        return self._transport is None or self._transport.is_closing()

    def send(self, status: int, headers: Headers, body: bytes) -> None:
        """A complete response with Content-Length."""
        self.write(_head(status, headers, self._keep_alive, len(body)) + body)

    def send_head(self, status: int, headers: Headers, *, length: int | None = None) -> None:
        """The status line and headers; ``length=None`` announces a chunked body."""
        self.write(_head(status, headers, self._keep_alive, length))

    def write(self, data: bytes) -> None:
        if not self.closing and self._transport is not None:
            self._transport.write(data)

    def write_chunk(self, data: bytes) -> None:
        """One chunk of a chunked body (``b""`` ends the body)."""
        self.write(frame_chunk(data))

    async def drain(self) -> None:
        """Wait while the kernel send buffer is full (client reading slowly)."""
        if self._writable is not None:
            await self._writable

    def close(self) -> None:
        """Close gracefully (FIN after the buffered bytes), whatever the body state."""
        if self._transport is not None:
            self._transport.close()

    def abort(self) -> None:
        if self._transport is not None:
            self._transport.abort()

    def reset(self) -> None:
        """Close with a TCP RST (SO_LINGER on, timeout 0) and nothing more sent."""
        sock = self._transport.get_extra_info("socket") if self._transport else None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.abort()

    def _refuse(self, status: HTTPStatus, message: str) -> None:
        """Answer a request we cannot even parse (OpenAI envelope), then close."""
        self._refused = True
        if self._busy:  # mid-response: a second response would corrupt the first
            self.abort()
            return
        body = b'{"error":{"message":"%s","type":"invalid_request_error","param":null,"code":null}}'
        self._keep_alive = False
        self.send(status, (("content-type", "application/json"),), body % message.encode())
        self.close()


def frame_chunk(data: bytes) -> bytes:
    """``data`` framed as one chunk of a chunked body; ``b""`` gives the terminating chunk."""
    return b"%x\r\n%s\r\n" % (len(data), data) if data else b"0\r\n\r\n"


_REASONS = {s.value: s.phrase for s in HTTPStatus}
_REASONS[529] = "Site is overloaded"
_date_cache: tuple[int, bytes] = (0, b"")


def _date() -> bytes:
    global _date_cache  # noqa: PLW0603 - one formatted date per second, shared by all
    now = int(time.time())
    if _date_cache[0] != now:
        _date_cache = (now, formatdate(now, usegmt=True).encode())
    return _date_cache[1]


def _head(status: int, headers: Headers, keep_alive: bool, length: int | None) -> bytes:
    lines = [
        b"HTTP/1.1 %d %s" % (status, _REASONS.get(status, "Unknown").encode()),
        b"date: " + _date(),
        b"server: veritee-upstream-sim",
    ]
    lines.extend(f"{name}: {value}".encode("latin-1") for name, value in headers)
    if length is None:
        lines.append(b"transfer-encoding: chunked")
    else:
        lines.append(b"content-length: %d" % length)
    if not keep_alive:
        lines.append(b"connection: close")
    lines.append(b"\r\n")
    return b"\r\n".join(lines)
