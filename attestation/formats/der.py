"""Just enough DER to read and write the SGX extensions of Intel PCK certificates.

Single-byte tags, definite lengths, and the four universal types those extensions use.
Malformed input raises :class:`MalformedEvidence` naming the field being read.
"""

from __future__ import annotations

from attestation.errors import MalformedEvidence

BOOLEAN = 0x01
INTEGER = 0x02
OCTET_STRING = 0x04
OID = 0x06
ENUMERATED = 0x0A
SEQUENCE = 0x30
MAX_ARC_BYTES = 16  # 112 bits per OID arc: far beyond any registered arc


def read_tlv(data: bytes, pos: int, field: str) -> tuple[int, bytes, int]:
    """Read one TLV at ``pos``: return (tag, value, position after it)."""
    if pos + 2 > len(data):
        raise MalformedEvidence("truncated DER element", field=field)
    tag = data[pos]
    length = data[pos + 1]
    pos += 2
    if length & 0x80:
        count = length & 0x7F
        if count == 0 or count > 4 or pos + count > len(data):
            raise MalformedEvidence("bad DER length", field=field)
        length = int.from_bytes(data[pos : pos + count], "big")
        if length < 0x80 or data[pos] == 0:
            raise MalformedEvidence("non-minimal DER length", field=field)
        pos += count
    if pos + length > len(data):
        raise MalformedEvidence("DER element runs past its container", field=field)
    return tag, data[pos : pos + length], pos + length


def read_all(data: bytes, field: str) -> list[tuple[int, bytes]]:
    """Every TLV in ``data`` in order; the elements must cover it exactly."""
    items: list[tuple[int, bytes]] = []
    pos = 0
    while pos < len(data):
        tag, value, pos = read_tlv(data, pos, field)
        items.append((tag, value))
    return items


def expect(tag: int, item: tuple[int, bytes], field: str) -> bytes:
    if item[0] != tag:
        raise MalformedEvidence(f"expected DER tag 0x{tag:02x}, got 0x{item[0]:02x}", field=field)
    return item[1]


def decode_oid(value: bytes, field: str) -> str:
    """Dotted text of an OBJECT IDENTIFIER; each arc minimally encoded, at most 16 bytes.

    The bound keeps hostile arcs from growing into integers too long to print (Python
    refuses to convert integers of more than 4300 digits to text).
    """
    if not value or value[-1] & 0x80:
        raise MalformedEvidence("bad OBJECT IDENTIFIER", field=field)
    arcs: list[int] = []
    current = length = 0
    for byte in value:
        if length == 0 and byte == 0x80:
            raise MalformedEvidence("OBJECT IDENTIFIER arc not minimally encoded", field=field)
        length += 1
        if length > MAX_ARC_BYTES:
            raise MalformedEvidence("OBJECT IDENTIFIER arc too large", field=field)
        current = (current << 7) | (byte & 0x7F)
        if not byte & 0x80:
            arcs.append(current)
            current = length = 0
    first = min(arcs[0] // 40, 2)
    return ".".join(str(a) for a in (first, arcs[0] - 40 * first, *arcs[1:]))


def decode_uint(value: bytes, field: str) -> int:
    if not value or value[0] & 0x80:
        raise MalformedEvidence("expected a non-negative INTEGER", field=field)
    return int.from_bytes(value, "big")


def tlv(tag: int, value: bytes) -> bytes:
    size = len(value)
    if size < 0x80:
        return bytes((tag, size)) + value
    length = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes((tag, 0x80 | len(length))) + length + value


def encode_oid(dotted: str) -> bytes:
    arcs = [int(a) for a in dotted.split(".")]
    body = bytearray()
    for arc in [40 * arcs[0] + arcs[1], *arcs[2:]]:
        chunk = [arc & 0x7F]
        rest = arc >> 7
        while rest:
            chunk.append(0x80 | (rest & 0x7F))
            rest >>= 7
        body.extend(reversed(chunk))
    return tlv(OID, bytes(body))


def encode_uint(value: int, tag: int = INTEGER) -> bytes:
    return tlv(tag, value.to_bytes(value.bit_length() // 8 + 1, "big"))


def sequence(*items: bytes) -> bytes:
    return tlv(SEQUENCE, b"".join(items))
