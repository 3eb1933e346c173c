"""A bounds-checked cursor over little-endian binary evidence.

Every read names the field it reads, so that running off the end of the input, or a
length field that points past it, becomes one :class:`MalformedEvidence` carrying the
field and the absolute offset where parsing stopped.
"""

from __future__ import annotations

from attestation.errors import MalformedEvidence


class Reader:
    """Reads fields in order from ``data``; ``base`` is added to offsets in errors."""

    __slots__ = ("_data", "_pos", "base")

    def __init__(self, data: bytes, *, base: int = 0) -> None:
        self._data = data
        self._pos = 0
        self.base = base

    @property
    def offset(self) -> int:
        """Absolute offset of the next byte to read."""
        return self.base + self._pos

    @property
    def remaining(self) -> int:
        return len(self._data) - self._pos

    def take(self, size: int, field: str) -> bytes:
        if size < 0 or size > self.remaining:
            raise MalformedEvidence(
                f"needs {size} bytes, only {self.remaining} left", field=field, offset=self.offset
            )
        start = self._pos
        self._pos += size
        return self._data[start : self._pos]

    def u16(self, field: str) -> int:
        return int.from_bytes(self.take(2, field), "little")

    def u32(self, field: str) -> int:
        return int.from_bytes(self.take(4, field), "little")

    def sub(self, size: int, field: str) -> Reader:
        """A reader over the next ``size`` bytes (checked now), keeping absolute offsets."""
        base = self.offset
        return Reader(self.take(size, field), base=base)

    def rest(self) -> bytes:
        return self.take(self.remaining, "rest")

    def expect_end(self, field: str) -> None:
        """Raise if bytes are left over: a structure's lengths must account for every byte."""
        if self.remaining:
            raise MalformedEvidence(
                f"{self.remaining} unexpected bytes after the structure",
                field=field,
                offset=self.offset,
            )


def require_size(value: bytes, size: int, field: str) -> bytes:
    """Return ``value`` if it is exactly ``size`` bytes, else raise MalformedEvidence."""
    if not isinstance(value, bytes) or len(value) != size:
        got = len(value) if isinstance(value, bytes | bytearray) else type(value).__name__
        raise MalformedEvidence(f"must be {size} bytes, got {got}", field=field)
    return value
