"""The few DER reading steps the AMD formats need: one TLV at a time, definite lengths.

Not a general ASN.1 parser: single-byte tags, lengths up to four bytes. Every
failure is a ``ValueError``; callers turn it into their own named error.
"""

from __future__ import annotations

from typing import NamedTuple


class Tlv(NamedTuple):
    """One DER element: its tag and where its header, content and end are."""

    tag: int
    start: int
    content: int
    end: int


def read_tlv(data: bytes, offset: int = 0) -> Tlv:
    """The element at ``offset``; raise ValueError when it is cut short or malformed."""
    if offset + 2 > len(data):
        raise ValueError(f"DER element at {offset} is cut short")
    tag, length = data[offset], data[offset + 1]
    content = offset + 2
    if length & 0x80:
        count = length & 0x7F
        if not 1 <= count <= 4 or content + count > len(data):
            raise ValueError(f"DER length at {offset} is malformed")
        length = int.from_bytes(data[content : content + count], "big")
        content += count
    end = content + length
    if end > len(data):
        raise ValueError(f"DER element at {offset} runs past the end")
    return Tlv(tag, offset, content, end)


def single(data: bytes, tag: int, what: str) -> bytes:
    """The content of ``data`` when it is exactly one element with ``tag``."""
    tlv = read_tlv(data)
    if tlv.tag != tag:
        raise ValueError(f"not a DER {what}")
    if tlv.end != len(data):
        raise ValueError(f"DER {what} length does not match its content")
    return data[tlv.content : tlv.end]


def children(data: bytes, tlv: Tlv) -> list[Tlv]:
    """The elements inside a constructed element, in order."""
    out, offset = [], tlv.content
    while offset < tlv.end:
        child = read_tlv(data[: tlv.end], offset)
        out.append(child)
        offset = child.end
    return out
