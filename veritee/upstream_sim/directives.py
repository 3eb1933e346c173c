"""Per-request directives: the ``x-sim`` header and the ``[[sim:...]]`` marker.

Both carry the same ``key=value,key=value`` list. The marker may appear anywhere in the
text of the last user message; it exists because a proxy in front of the simulator may not
forward client headers. Precedence: server settings < header < marker (the later marker
wins when there are several). Unknown keys and bad values are errors (HTTP 400), so that
a typo in a test never silently does nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields, replace
from enum import StrEnum

MARKER = re.compile(r"\[\[sim:([^\]]*)\]\]")
HOLD_TOKEN = re.compile(r"[A-Za-z0-9_.\-]{1,128}")

# Upper bounds: generous for tests and benchmarks, small enough that one request
# cannot tie the simulator up for hours or fill its memory.
_LIMITS = {
    "latency_ms": 600_000,
    "chunks": 10_000,
    "chunk_delay_ms": 600_000,
    "retry_after": 86_400,
    "words": 100_000,
}


class Fault(StrEnum):
    """Misbehaviour on request; the exact wire behaviour is in ``docs/upstream-sim.md``."""

    RATE_LIMITED = "429"
    SERVER_ERROR = "500"
    OVERLOADED = "529"
    RESET = "reset"
    STALL_BEFORE = "stall-before"
    STALL_AFTER = "stall-after"
    TRUNCATE = "truncate"
    MALFORMED_JSON = "malformed-json"
    MALFORMED_SSE = "malformed-sse"


class DirectiveError(ValueError):
    """A directive that cannot be honoured: unknown key or bad value."""

    def __init__(self, message: str, *, key: str | None = None) -> None:
        self.key = key
        super().__init__(f"x-sim {key}: {message}" if key else f"x-sim: {message}")


@dataclass(frozen=True)
class Directives:
    """What one request asked for; ``None`` means "not asked, use the server setting"."""

    latency_ms: int | None = None
    chunks: int | None = None
    chunk_delay_ms: int | None = None
    fault: Fault | None = None
    hold: str | None = None
    retry_after: int | None = None
    words: int | None = None

    def merged(self, later: Directives) -> Directives:
        """These directives overridden by every key that ``later`` sets."""
        if later == NO_DIRECTIVES:
            return self
        changes = {
            f.name: getattr(later, f.name)
            for f in fields(later)
            if getattr(later, f.name) is not None
        }
        return replace(self, **changes)


NO_DIRECTIVES = Directives()


def parse_directives(text: str) -> Directives:
    """Parse ``key=value,key=value`` (spaces around items are ignored; empty is fine)."""
    values: dict[str, object] = {}
    for raw in text.split(","):
        item = raw.strip()
        if not item:
            continue
        key, sep, value = item.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not value:
            raise DirectiveError(f"expected key=value, got {item!r}", key=key or None)
        values[key] = _value(key, value)
    return Directives(**values)  # type: ignore[arg-type]


def extract_markers(text: str) -> tuple[str, Directives]:
    """Split a message text into (text without markers, directives of its markers).

    With markers present, the remaining text is also trimmed, so that ``"hi [[sim:x=1]]"``
    and ``"hi"`` are the same prompt (and get the same generated words).
    """
    found = NO_DIRECTIVES
    for match in MARKER.finditer(text):
        found = found.merged(parse_directives(match.group(1)))
    if found is NO_DIRECTIVES and "[[sim:" not in text:
        return text, found
    return MARKER.sub("", text).strip(), found


def _value(key: str, value: str) -> object:
    if key in _LIMITS:
        if not value.isdigit():
            raise DirectiveError(f"expected a non-negative integer, got {value!r}", key=key)
        number = int(value)
        if number > _LIMITS[key] or (key == "chunks" and number < 1):
            raise DirectiveError(f"{number} is out of range 1..{_LIMITS[key]}", key=key)
        return number
    if key == "fault":
        try:
            return Fault(value)
        except ValueError:
            choices = ", ".join(f.value for f in Fault)
            raise DirectiveError(f"unknown fault {value!r} (one of {choices})", key=key) from None
    if key == "hold":
        if not HOLD_TOKEN.fullmatch(value):
            raise DirectiveError("token must be 1-128 of [A-Za-z0-9_.-]", key=key)
        return value
    raise DirectiveError("unknown key", key=key)
