"""The simulator's own endpoints under ``/_sim/`` (no auth, never faulted or delayed).

- ``POST /_sim/release/<token>`` releases ``hold=<token>``: ``{"released": token, "waiting": n}``.
- ``GET /_sim/hold/<token>``: ``{"token": token, "waiting": n}`` (requests held right now).
- ``GET /_sim/requests`` lists the last requests to the dialect endpoints (the journal), so
  a test can check what a proxy in front really forwarded (API key, headers, body).
- ``GET /_sim/health``: ``{"status": "ok", "requests": <count so far>}``.
"""

from __future__ import annotations

import hashlib
from collections import deque
from dataclasses import dataclass
from typing import Any

import orjson

from veritee.upstream_sim.directives import HOLD_TOKEN
from veritee.upstream_sim.holds import Holds
from veritee.upstream_sim.http import Request
from veritee.upstream_sim.reply import JSON, Reply

JOURNAL_SIZE = 256


@dataclass(frozen=True)
class SeenRequest:
    """One journal entry: the request number and the request exactly as received."""

    seq: int
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def to_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "method": self.method,
            "path": self.path,
            "headers": self.headers,
            "body_sha256": hashlib.sha256(self.body).hexdigest(),
            "body": self.body.decode("utf-8", "replace"),
        }


class Journal:
    """The last :data:`JOURNAL_SIZE` requests (references only: recording costs nothing)."""

    def __init__(self) -> None:
        self._entries: deque[SeenRequest] = deque(maxlen=JOURNAL_SIZE)

    def record(self, seq: int, request: Request) -> None:
        self._entries.append(
            SeenRequest(seq, request.method, request.path, request.headers, request.body)
        )

    def entries(self) -> list[SeenRequest]:
        return list(self._entries)


def control(request: Request, holds: Holds, journal: Journal, count: int) -> Reply:
    """Answer a ``/_sim/...`` request."""
    parts = request.path.split("/")  # ['', '_sim', name, ...]
    name = parts[2] if len(parts) > 2 else ""
    if name == "release" and len(parts) == 4 and HOLD_TOKEN.fullmatch(parts[3]):
        if request.method != "POST":
            return _json(405, {"error": "use POST"})
        waiting = holds.release(parts[3])
        return _json(200, {"released": parts[3], "waiting": waiting})
    if name == "hold" and len(parts) == 4 and HOLD_TOKEN.fullmatch(parts[3]):
        return _json(200, {"token": parts[3], "waiting": holds.waiting(parts[3])})
    if name == "requests" and len(parts) == 3:
        return _json(200, {"requests": [e.to_dict() for e in journal.entries()]})
    if name == "health" and len(parts) == 3:
        return _json(200, {"status": "ok", "requests": count})
    return _json(404, {"error": f"no such simulator endpoint: {request.path}"})


def _json(status: int, body: dict[str, Any]) -> Reply:
    return Reply(status, (("content-type", JSON),), orjson.dumps(body))
