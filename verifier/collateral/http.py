"""The HTTP seam of the collateral fetcher: a tiny getter interface and a urllib one.

Tests inject a getter or point the real one at a local server; nothing else in the
verifier opens a socket.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class HttpResponse:
    status: int
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)  # names lower-cased

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


class HttpGetter(Protocol):
    def get(self, url: str) -> HttpResponse:
        """GET ``url``. Raise OSError when no response came back at all."""
        ...


class _Readable(Protocol):
    def read(self, size: int, /) -> bytes: ...


class UrllibGetter:
    """GET with the standard library, a timeout and a size cap."""

    def __init__(self, *, timeout: float = 10.0, max_bytes: int = 8 << 20) -> None:
        self.timeout = timeout
        self.max_bytes = max_bytes

    def get(self, url: str) -> HttpResponse:
        if not url.startswith(("https://", "http://")):
            raise OSError(f"refusing to fetch {url!r}: only http(s) URLs")
        request = urllib.request.Request(url, headers={"User-Agent": "veritee-verifier"})  # noqa: S310 - scheme checked above
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                status, headers, body = response.status, response.headers, self._body(response)
        except urllib.error.HTTPError as exc:
            status, headers, body = exc.code, exc.headers, self._body(exc)
        return HttpResponse(status, body, {k.lower(): v for k, v in headers.items()})

    def _body(self, stream: _Readable) -> bytes:
        body = stream.read(self.max_bytes + 1)
        if len(body) > self.max_bytes:
            raise OSError(f"response larger than {self.max_bytes} bytes")
        return body
