"""Relaying an enclave's event stream while taking out its receipt.

The enclave's stream (``docs/spec/enclave-api.md``, "Stream receipts") ends with::

    data: [DONE]\\n\\n
    event: veritee-receipt\\n
    data: {"body": ..., "sig": ...}\\n\\n

and the receipt's ``response_sha256`` covers every byte before ``event: veritee-receipt``.
:class:`StreamTap` is fed the bytes as they arrive and returns at once what may go to the
client: every whole event, unchanged. It holds back only ``[DONE]`` (and anything after
it) and the receipt, so that the gateway can verify and store the receipt before the
client sees the end of the stream. It hashes what it sees, so the receipt's
``response_sha256`` can be checked against the bytes actually relayed.

A partial event (bytes after the last blank line) waits for its end: never more than one
event is buffered, and a stream cut mid-event never hands the client half an event.
"""

from __future__ import annotations

import hashlib

RECEIPT_EVENT = b"veritee-receipt"
DONE_DATA = b"[DONE]"


def split_events(buf: bytes) -> tuple[list[tuple[bytes, bytes | None, bytes | None]], bytes]:
    """Whole events in ``buf`` as ``(raw bytes, event name, data)``, and the unfinished rest.

    Lines end with CRLF, LF or CR; a CR at the very end is left in the rest until the next
    byte shows whether an LF follows. Multiple ``data`` lines are joined with LF.
    """
    events: list[tuple[bytes, bytes | None, bytes | None]] = []
    start = pos = 0
    size = len(buf)
    name: bytes | None = None
    data: list[bytes] | None = None
    while pos < size:
        lf = buf.find(b"\n", pos)
        cr = buf.find(b"\r", pos, lf if lf >= 0 else size)
        if cr >= 0:
            if cr + 1 == size:
                break
            end, nxt = cr, cr + 2 if buf[cr + 1] == 0x0A else cr + 1
        elif lf >= 0:
            end, nxt = lf, lf + 1
        else:
            break
        line = buf[pos:end]
        pos = nxt
        if line:
            field, sep, value = line.partition(b":")
            if sep and value[:1] == b" ":
                value = value[1:]
            if field == b"event":
                name = value
            elif field == b"data":
                data = [value] if data is None else [*data, value]
            continue
        events.append((buf[start:pos], name, None if data is None else b"\n".join(data)))
        start = pos
        name = None
        data = None
    return events, buf[start:]


class StreamTap:
    __slots__ = ("_hash", "_held", "_pending", "extra", "receipt", "receipt_event")

    def __init__(self) -> None:
        self._pending = b""
        self._held: list[bytes] = []
        self._hash = hashlib.sha256()
        self.receipt: bytes | None = None  # the receipt's JSON (the receipt event's data)
        self.receipt_event = b""  # the receipt event's bytes, as the enclave sent them
        self.extra = False  # bytes came after the receipt (the enclave broke the protocol)

    def feed(self, chunk: bytes) -> bytes:
        """Take ``chunk``; return the bytes to send to the client now (maybe none)."""
        if self.receipt is not None:
            self.extra = self.extra or bool(chunk.strip())
            return b""
        buf = self._pending + chunk if self._pending else chunk
        if not self._held and b"\r" not in buf:
            end = buf.rfind(b"\n\n")
            if end < 0:
                self._pending = buf
                return b""
            complete = buf[: end + 2]
            if DONE_DATA not in complete and RECEIPT_EVENT not in complete:
                self._pending = buf[end + 2 :]
                self._hash.update(complete)
                return complete
        events, self._pending = split_events(buf)
        out: list[bytes] = []
        for raw, name, data in events:
            if self.receipt is not None:
                self.extra = self.extra or bool(raw.strip())
            elif name == RECEIPT_EVENT:
                self.receipt = data or b""
                self.receipt_event = raw
            else:
                self._hash.update(raw)
                if self._held or data == DONE_DATA:
                    self._held.append(raw)
                else:
                    out.append(raw)
        return b"".join(out)

    def end(self) -> bytes:
        """The stream ended properly: a CR left at the very end was a line end after all."""
        if self._pending.endswith(b"\r"):
            return self.feed(b"\n")
        return b""

    @property
    def response_sha256(self) -> str:
        """sha256 of every byte before the receipt event (what the receipt must commit to)."""
        return self._hash.hexdigest()

    @property
    def held(self) -> bytes:
        """``[DONE]`` and whatever came after it, held back until the receipt is stored."""
        return b"".join(self._held)

    @property
    def unfinished(self) -> bytes:
        """Bytes of an event that never ended (what a cut stream leaves behind)."""
        return self._pending
