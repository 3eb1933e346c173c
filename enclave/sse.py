"""Server-sent events: an incremental parser that keeps each event's exact bytes.

The proxy forwards upstream events byte for byte (OpenAI dialect) or translates them
(Anthropic), and only ever forwards *whole* events: a stream cut in the middle of an
event never hands a client half an event. :class:`SseParser` therefore returns, for
every event, the raw bytes it was made of (up to and including the blank line that
ends it) alongside the parsed ``event`` name and ``data``.

Lines end with CRLF, LF or CR (the WHATWG rules); a CR at the end of a chunk is held
back until the next byte shows whether an LF follows.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_EVENT = 16 * 1024 * 1024  # an upstream event larger than this is refused, not buffered


class EventTooLarge(ValueError):
    """An event grew past :data:`MAX_EVENT` bytes without ending."""


@dataclass(frozen=True, slots=True)
class SseEvent:
    raw: bytes
    event: str | None
    data: bytes | None  # data lines joined by LF; None when the block had no data line


class SseParser:
    """Feed bytes as they arrive; get back the events they complete.

    Raises :class:`EventTooLarge` when an unfinished event passes :data:`MAX_EVENT` bytes.
    """

    __slots__ = ("_buf", "_closed", "_data", "_event", "_scan", "_start")

    def __init__(self) -> None:
        self._buf = b""
        self._start = 0  # where the current event's raw bytes begin in _buf
        self._scan = 0  # where the next unread line begins
        self._event: str | None = None
        self._data: list[bytes] | None = None
        self._closed = False

    def feed(self, chunk: bytes) -> list[SseEvent]:
        buf = self._buf + chunk if self._buf else chunk
        events: list[SseEvent] = []
        pos = self._scan
        size = len(buf)
        while pos < size:
            lf = buf.find(b"\n", pos)
            cr = buf.find(b"\r", pos, lf if lf >= 0 else size)
            if cr >= 0:
                if cr + 1 == size and not self._closed:
                    break  # a CR at the very end: wait to see if an LF follows
                end, nxt = cr, cr + 2 if cr + 1 < size and buf[cr + 1] == 0x0A else cr + 1
            elif lf >= 0:
                end, nxt = lf, lf + 1
            else:
                break
            line = buf[pos:end]
            pos = nxt
            if line:
                self._field(line)
                continue
            events.append(SseEvent(buf[self._start : pos], self._event, self._joined()))
            self._start = pos
            self._event = None
            self._data = None
        self._buf = buf[self._start :]
        self._scan = pos - self._start
        self._start = 0
        if len(self._buf) > MAX_EVENT:
            raise EventTooLarge(f"an upstream event exceeds {MAX_EVENT} bytes")
        return events

    def close(self) -> list[SseEvent]:
        """The stream ended: a CR held back at the end now ends its line."""
        self._closed = True
        return self.feed(b"")

    def leftover(self) -> bytes:
        """Bytes of an event that never ended (what a cut stream leaves behind)."""
        return self._buf

    def _field(self, line: bytes) -> None:
        if line[0] == 0x3A:  # ":" starts a comment
            return
        name, sep, value = line.partition(b":")
        if sep and value[:1] == b" ":
            value = value[1:]
        if name == b"data":
            if self._data is None:
                self._data = [value]
            else:
                self._data.append(value)
        elif name == b"event":
            self._event = value.decode("utf-8", "replace")

    def _joined(self) -> bytes | None:
        if self._data is None:
            return None
        return self._data[0] if len(self._data) == 1 else b"\n".join(self._data)


def data_event(data: bytes, event: str | None = None) -> bytes:
    """Encode one event whose data is a single line (JSON never holds a raw newline)."""
    if event is None:
        return b"data: " + data + b"\n\n"
    return b"event: " + event.encode("ascii") + b"\ndata: " + data + b"\n\n"


DONE = b"data: [DONE]\n\n"
