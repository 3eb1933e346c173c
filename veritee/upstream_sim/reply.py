"""What to send (a :class:`Reply`) and how to send it (a :class:`Pacing`).

Dialects build replies as plain bytes; faults rewrite them; :mod:`delivery` puts them on
the wire. A streamed reply is a tuple of *chunk groups*: each group is the SSE bytes of one
step of the stream (group 0 carries the preamble and the first content delta; the last
group carries the finish, usage and terminator). Delays, ``hold``, ``stall-after`` and
``truncate`` all act at group boundaries.
"""

from __future__ import annotations

from dataclasses import dataclass

from veritee.upstream_sim.directives import Fault
from veritee.upstream_sim.http import Headers

JSON = "application/json"
SSE = "text/event-stream; charset=utf-8"


@dataclass(frozen=True)
class Reply:
    """Status, headers (framing headers are added by the transport) and the body.

    ``groups is None`` for a non-streamed reply (``body`` holds it); otherwise the body is
    sent chunked, one HTTP chunk per group.
    """

    status: int
    headers: Headers
    body: bytes = b""
    groups: tuple[bytes, ...] | None = None

    @property
    def streamed(self) -> bool:
        return self.groups is not None


@dataclass(frozen=True)
class Pacing:
    """Timing and wire-level misbehaviour of one response (seconds)."""

    latency: float = 0.0
    chunk_delay: float = 0.0
    fault: Fault | None = None  # only reset, stall-before, stall-after, truncate reach here
    hold: str | None = None
    stall_max: float = 60.0
    hold_max: float = 60.0

    @property
    def immediate(self) -> bool:
        """True when the reply can be written at once, without a task."""
        return not (self.latency or self.chunk_delay or self.fault or self.hold)


def sse_event(data: bytes, event: str | None = None) -> bytes:
    """One server-sent event: an optional ``event:`` line and one ``data:`` line."""
    if event is None:
        return b"data: " + data + b"\n\n"
    return b"event: " + event.encode() + b"\ndata: " + data + b"\n\n"
