"""Faults that change *what* is sent. Faults that change *how* it is sent live in delivery.

- ``429``/``500``/``529``: the normal reply is replaced by an error in the dialect's envelope
  (429 carries ``retry-after``).
- ``malformed-json``: non-streamed, the body is cut in half (status 200, still labelled
  JSON); streamed, a copy of the middle chunk's first event with its JSON cut in half is
  inserted before that chunk, and the stream then goes on normally.
- ``malformed-sse``: streamed, the line ``GARBAGE_LINE`` is inserted before the middle
  chunk (compliant SSE parsers ignore it, a strict one fails); non-streamed, as
  ``malformed-json``.
"""

from __future__ import annotations

from dataclasses import replace

from veritee.upstream_sim.directives import Fault
from veritee.upstream_sim.errors import ErrorKind, SimError
from veritee.upstream_sim.reply import Reply

GARBAGE_LINE = b"%%% upstream-sim malformed-sse: this line is not server-sent events %%%\n\n"
DEFAULT_RETRY_AFTER = 1

_ERRORS = {
    Fault.RATE_LIMITED: (
        ErrorKind.RATE_LIMITED,
        "Rate limit reached (simulated).",
        "rate_limit_exceeded",
    ),
    Fault.SERVER_ERROR: (
        ErrorKind.SERVER,
        "The server had an error while processing your request. Sorry about that! (simulated)",
        None,
    ),
    Fault.OVERLOADED: (ErrorKind.OVERLOADED, "Overloaded (simulated).", "overloaded"),
}
WIRE_FAULTS = frozenset({Fault.RESET, Fault.STALL_BEFORE, Fault.STALL_AFTER, Fault.TRUNCATE})


def fault_error(fault: Fault | None, retry_after: int | None) -> SimError | None:
    """The error that replaces the reply, for the status-code faults."""
    if fault not in _ERRORS:
        return None
    kind, message, code = _ERRORS[fault]
    wait = None
    if kind is ErrorKind.RATE_LIMITED:
        wait = retry_after if retry_after is not None else DEFAULT_RETRY_AFTER
    return SimError(kind, message, code=code, retry_after=wait)


def corrupt(reply: Reply, fault: Fault | None) -> Reply:
    """``reply`` with the malformed-* fault applied (unchanged for other faults)."""
    if fault not in (Fault.MALFORMED_JSON, Fault.MALFORMED_SSE):
        return reply
    if reply.groups is None:
        return replace(reply, body=reply.body[: len(reply.body) // 2])
    groups = list(reply.groups)
    middle = len(groups) // 2
    inserted = GARBAGE_LINE if fault is Fault.MALFORMED_SSE else _broken_event(groups[middle])
    groups[middle] = inserted + groups[middle]
    return replace(reply, groups=tuple(groups))


def _broken_event(group: bytes) -> bytes:
    """The first event of ``group`` with its ``data:`` payload cut in half."""
    event = group.split(b"\n\n", 1)[0]
    lines = []
    for line in event.split(b"\n"):
        payload = line[6:] if line.startswith(b"data: ") else None
        lines.append(line if payload is None else b"data: " + payload[: len(payload) // 2])
    return b"\n".join(lines) + b"\n\n"
