"""An in-memory transport for tests: a handler turns each request into a scripted reply.

``FakeTransport(handler)`` records every request it gets; ``FakeReply`` plays back a
status, headers and body chunks, and can cut the body (``cut_after`` chunks) or have the
call fail before any reply (``handler`` raising :class:`UpstreamUnavailable`).
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field

from enclave.upstream.transport import UpstreamCut


@dataclass(frozen=True)
class FakeRequest:
    url: str
    headers: Mapping[str, str]
    body: bytes


@dataclass
class FakeReply:
    status: int = 200
    chunks_: Sequence[bytes] = ()
    headers: Mapping[str, str] = field(default_factory=dict)
    spki_sha256: str | None = "ab" * 32
    cut_after: int | None = None
    delay: float = 0.0

    def __post_init__(self) -> None:
        self._hash = hashlib.sha256()
        self._lower = {k.lower(): v for k, v in self.headers.items()}
        self.closed = False

    def header(self, name: str) -> str | None:
        return self._lower.get(name.lower())

    async def chunks(self) -> AsyncIterator[bytes]:
        for i, chunk in enumerate(self.chunks_):
            if self.cut_after is not None and i >= self.cut_after:
                raise UpstreamCut("fake upstream cut the body")
            if self.delay:
                await asyncio.sleep(self.delay)
            self._hash.update(chunk)
            yield chunk
        if self.cut_after is not None and self.cut_after >= len(self.chunks_):
            raise UpstreamCut("fake upstream cut the body")

    async def read(self) -> bytes:
        return b"".join([chunk async for chunk in self.chunks()])

    def raw_sha256(self) -> str:
        return self._hash.hexdigest()

    def close(self) -> None:
        self.closed = True


class FakeTransport:
    def __init__(self, handler: Callable[[FakeRequest], FakeReply]) -> None:
        self._handler = handler
        self.requests: list[FakeRequest] = []
        self.replies: list[FakeReply] = []

    async def post(self, url: str, headers: Mapping[str, str], body: bytes) -> FakeReply:
        request = FakeRequest(url, dict(headers), body)
        self.requests.append(request)
        reply = self._handler(request)
        self.replies.append(reply)
        return reply

    async def close(self) -> None:
        return None
