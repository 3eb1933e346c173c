"""Big-endian TPM wire encoding: a bounds-checked reader and the matching writers.

Every read names the field it reads, so that bad bytes raise
:class:`~attestation.errors.MalformedEvidence` with the field and the offset where
parsing stopped. ``base`` shifts reported offsets when a structure sits inside another.
"""

from __future__ import annotations

import struct

from attestation.errors import MalformedEvidence


class Reader:
    """Reads TPM-encoded fields from ``data``, tracking the offset."""

    def __init__(self, data: bytes, *, structure: str, base: int = 0) -> None:
        if not isinstance(data, bytes | bytearray | memoryview):
            raise MalformedEvidence("must be bytes", field=structure)
        self.data = bytes(data)
        self.offset = 0
        self.structure = structure
        self.base = base

    def fail(self, field: str, message: str, *, at: int | None = None) -> MalformedEvidence:
        where = self.offset if at is None else at
        return MalformedEvidence(
            message, field=f"{self.structure}.{field}", offset=self.base + where
        )

    def take(self, size: int, field: str) -> bytes:
        if size > len(self.data) - self.offset:
            raise self.fail(
                field, f"needs {size} bytes, only {len(self.data) - self.offset} remain"
            )
        chunk = self.data[self.offset : self.offset + size]
        self.offset += size
        return chunk

    def u8(self, field: str) -> int:
        return self.take(1, field)[0]

    def u16(self, field: str) -> int:
        value: int = struct.unpack(">H", self.take(2, field))[0]
        return value

    def u32(self, field: str) -> int:
        value: int = struct.unpack(">I", self.take(4, field))[0]
        return value

    def u64(self, field: str) -> int:
        value: int = struct.unpack(">Q", self.take(8, field))[0]
        return value

    def tpm2b(self, field: str, *, max_size: int) -> bytes:
        """A TPM2B: a 16-bit size, then that many bytes (at most ``max_size``)."""
        start = self.offset
        size = self.u16(f"{field}.size")
        if size > max_size:
            raise self.fail(f"{field}.size", f"{size} exceeds the maximum of {max_size}", at=start)
        return self.take(size, field)

    def end(self) -> None:
        """Require that every byte was consumed: trailing bytes are not tolerated."""
        if self.offset != len(self.data):
            raise self.fail("end", f"{len(self.data) - self.offset} trailing bytes")


def u8(value: int) -> bytes:
    return struct.pack(">B", value)


def u16(value: int) -> bytes:
    return struct.pack(">H", value)


def u32(value: int) -> bytes:
    return struct.pack(">I", value)


def u64(value: int) -> bytes:
    return struct.pack(">Q", value)


def tpm2b(value: bytes) -> bytes:
    return u16(len(value)) + value
