"""The latency probe: one keep-alive connection, one request at a time, blocking calls.

Used at concurrency 1, where a load generator's event loop would only add noise. The
request bytes are built once and the reply is parsed by ``httptools``. For each exchange it
records the time to the first content event of a stream (the first token; for a plain reply,
the first body byte), to the last content event, and to the end, and how many content
events arrived: ``(last - first) / (events - 1)`` is the time per chunk.
"""

from __future__ import annotations

import json
import re
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import httptools

from bench.stacks import MODEL, Target

CONTENT = re.compile(rb'"content":"[^"]')  # an OpenAI delta or message with text in it
PROMPT = "Benchmark me: what is the capital of France?"


def chat_body(*, stream: bool, latency_ms: int = 0) -> bytes:
    """The one request every benchmark sends (the simulator's latency directive optional)."""
    marker = f" [[sim:latency_ms={latency_ms}]]" if latency_ms else ""
    message = {"role": "user", "content": PROMPT + marker}
    return json.dumps({"model": MODEL, "stream": stream, "messages": [message]}).encode()


@dataclass(frozen=True)
class Exchange:
    first_ms: float  # first token (stream) or first body byte
    last_ms: float  # last content event (stream) or first body byte
    total_ms: float
    events: int  # content events (streams)

    @property
    def per_chunk_ms(self) -> float:
        return (self.last_ms - self.first_ms) / (self.events - 1) if self.events > 1 else 0.0


class Probe:
    def __init__(self, target: Target, body: bytes, *, stream: bool) -> None:
        parts = urlsplit(target.url)
        host, port = parts.hostname or "127.0.0.1", parts.port or 80
        raw = socket.create_connection((host, port))
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if parts.scheme == "https":
            context = ssl.create_default_context(cafile=target.cafile)
            raw = context.wrap_socket(raw, server_hostname=host)
        self.sock = raw
        head = [f"POST {parts.path} HTTP/1.1", f"host: {parts.netloc}",
                "content-type: application/json", f"content-length: {len(body)}",
                *(f"{k}: {v}" for k, v in target.headers.items())]  # fmt: skip
        self.request = ("\r\n".join(head) + "\r\n\r\n").encode() + body
        self.stream = stream
        self.parser = httptools.HttpResponseParser(self)
        self._reset()

    def _reset(self) -> None:
        self.first = self.last = 0.0
        self.events = 0
        self.pending = b""
        self.done = False

    def on_body(self, body: bytes) -> None:
        now = time.perf_counter()
        if not self.stream:
            self.first = self.first or now
            self.last = self.first
            return
        events = (self.pending + body).split(b"\n\n")
        self.pending = events.pop()
        for event in events:
            if CONTENT.search(event):
                self.events += 1
                self.first = self.first or now
                self.last = now

    def on_message_complete(self) -> None:
        self.done = True

    def once(self) -> Exchange:
        self._reset()
        started = time.perf_counter()
        self.sock.sendall(self.request)
        while not self.done:
            data = self.sock.recv(65536)
            if not data:
                raise RuntimeError("the server closed the connection")
            self.parser.feed_data(data)
        ended = time.perf_counter()
        if self.parser.get_status_code() != 200:
            raise RuntimeError(f"HTTP {self.parser.get_status_code()}")
        if not self.first:
            raise RuntimeError("no content in the reply")
        ms = 1000.0
        return Exchange((self.first - started) * ms, (self.last - started) * ms,
                        (ended - started) * ms, self.events)  # fmt: skip

    def close(self) -> None:
        self.sock.close()
