"""The GHCB certificate table: layout, roles, and malformed tables named."""

from __future__ import annotations

import struct
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from attestation.errors import MalformedEvidence
from attestation.formats.snp_certtable import ENTRY_SIZE, ROLE_GUIDS, CertTable

VCEK, ASK, ARK = b"vcek-der" * 10, b"ask-der" * 20, b"ark-der" * 30


def entry(guid: uuid.UUID, offset: int, length: int) -> bytes:
    return guid.bytes + struct.pack("<II", offset, length)


def test_layout_is_guid_offset_length_then_terminator() -> None:
    data = CertTable.from_roles({"vcek": VCEK, "ask": ASK, "ark": ARK}).to_bytes()
    header = 4 * ENTRY_SIZE
    # GUIDs in RFC 4122 byte order, offsets counted from the start of the table.
    assert data[:16] == bytes.fromhex("63da758de6644564adc5f4b93be8accd")
    assert struct.unpack_from("<II", data, 16) == (header, len(VCEK))
    assert struct.unpack_from("<II", data, 40) == (header + len(VCEK), len(ASK))
    assert data[3 * ENTRY_SIZE : header] == bytes(ENTRY_SIZE)
    assert data[header:] == VCEK + ASK + ARK


def test_round_trip_and_roles() -> None:
    table = CertTable.from_roles({"vlek": VCEK, "ask": ASK})
    parsed = CertTable.from_bytes(table.to_bytes() + bytes(4096))  # page padding is fine
    assert parsed == table
    assert parsed.by_role() == {"vlek": VCEK, "ask": ASK}


def test_unknown_guids_are_kept_but_have_no_role() -> None:
    other = uuid.UUID("ecae0c0f-9502-43b1-afa2-0ae2e0d565b6")
    table = CertTable(((other, b"extra"), (ROLE_GUIDS["vcek"], VCEK)))
    parsed = CertTable.from_bytes(table.to_bytes())
    assert parsed.entries[0] == (other, b"extra")
    assert parsed.by_role() == {"vcek": VCEK}


def test_empty() -> None:
    assert CertTable.from_bytes(b"") == CertTable()
    assert CertTable.from_bytes(bytes(ENTRY_SIZE)).entries == ()
    assert CertTable().to_bytes() == bytes(ENTRY_SIZE)
    with pytest.raises(ValueError, match="no GUID"):
        CertTable.from_roles({"pck": b"x"})


@pytest.mark.parametrize(
    ("data", "offset", "words"),
    [
        (entry(ROLE_GUIDS["vcek"], 48, 1), 24, "before its all-zero terminator"),
        (entry(ROLE_GUIDS["vcek"], 10, 4) + bytes(ENTRY_SIZE) + bytes(8), 16, "outside"),
        (entry(ROLE_GUIDS["vcek"], 48, 100) + bytes(ENTRY_SIZE), 16, "outside"),
        (bytes(16) + struct.pack("<II", 1, 0), 0, "terminator must be all zero"),
        (b"\x01" * 10, 0, "before its all-zero terminator"),
    ],
)
def test_malformed_tables_are_named(data: bytes, offset: int, words: str) -> None:
    with pytest.raises(MalformedEvidence, match=words) as caught:
        CertTable.from_bytes(data)
    assert (caught.value.field, caught.value.offset) == ("certtable", offset)


def test_duplicate_guids_are_refused() -> None:
    guid = ROLE_GUIDS["ask"]
    data = entry(guid, 72, 1) + entry(guid, 72, 1) + bytes(ENTRY_SIZE) + b"x"
    with pytest.raises(MalformedEvidence, match="twice"):
        CertTable.from_bytes(data)


# -- properties ---------------------------------------------------------------------

guids = st.one_of(st.sampled_from(sorted(ROLE_GUIDS.values())), st.uuids().filter(lambda u: u.int))


@given(st.lists(st.tuples(guids, st.binary(max_size=64)), max_size=6, unique_by=lambda e: e[0]))
def test_built_tables_round_trip(entries: list[tuple[uuid.UUID, bytes]]) -> None:
    table = CertTable(tuple(entries))
    assert CertTable.from_bytes(table.to_bytes()) == table


@given(st.binary(max_size=300))
def test_arbitrary_bytes_parse_or_fail_by_name(data: bytes) -> None:
    try:
        table = CertTable.from_bytes(data)
    except MalformedEvidence as exc:
        assert exc.field == "certtable"
    else:
        assert all(guid.int for guid, _ in table.entries)


@given(
    st.lists(st.tuples(st.integers(0, 400), st.integers(0, 255)), max_size=6),
)
def test_edited_tables_parse_or_fail_by_name(edits: list[tuple[int, int]]) -> None:
    data = bytearray(CertTable.from_roles({"vcek": VCEK, "ask": ASK, "ark": ARK}).to_bytes())
    for position, value in edits:
        data[position % len(data)] = value
    try:
        table = CertTable.from_bytes(bytes(data))
    except MalformedEvidence as exc:
        assert exc.field == "certtable"
    else:
        assert all(len(blob) <= len(data) for _, blob in table.entries)
