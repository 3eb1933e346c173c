"""The shipped fake transport: enclaves as Python functions, for tests of the gateway's logic.

``FakeTransport(handler)`` calls ``await handler(FakeRequest)`` for each request; the
handler returns a :class:`FakeReply` (or raises :class:`EnclaveUnavailable` to play a
refused connection). A reply's ``chunks`` are delivered one by one; ``cut=True`` ends the
body with a failure instead of a proper end, as a dying enclave would.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field

from gateway.errors import EnclaveUnavailable


@dataclass(frozen=True)
class FakeRequest:
    method: str
    url: str
    body: bytes | None
    headers: Mapping[str, str]


class _Headers(dict[str, str]):
    """A case-insensitive view good enough for replies (keys stored lower-case)."""

    def __init__(self, items: Mapping[str, str]) -> None:
        super().__init__({k.lower(): v for k, v in items.items()})

    def __getitem__(self, key: str) -> str:
        return super().__getitem__(key.lower())

    def get(self, key: str, default: str | None = None) -> str | None:  # type: ignore[override]
        return super().get(key.lower(), default)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and super().__contains__(key.lower())


@dataclass
class FakeReply:
    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)
    chunks_: Iterable[bytes] | AsyncIterator[bytes] = ()
    cut: bool = False
    closed: bool = False

    def __post_init__(self) -> None:
        self.headers = _Headers(self.headers)

    async def read(self) -> bytes:
        return b"".join([c async for c in self.chunks()])

    async def chunks(self) -> AsyncIterator[bytes]:
        source = self.chunks_
        if isinstance(source, AsyncIterator):
            async for chunk in source:
                yield chunk
        else:
            for chunk in source:
                yield chunk
        if self.cut:
            raise EnclaveUnavailable("stream cut: the fake enclave went away")

    def close(self) -> None:
        self.closed = True


Handler = Callable[[FakeRequest], Awaitable[FakeReply]]


class FakeTransport:
    def __init__(self, handler: Handler) -> None:
        self._handler = handler
        self.requests: list[FakeRequest] = []

    async def request(
        self,
        method: str,
        url: str,
        *,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> FakeReply:
        request = FakeRequest(method, url, body, dict(headers or {}))
        self.requests.append(request)
        return await self._handler(request)

    async def close(self) -> None:
        return None
