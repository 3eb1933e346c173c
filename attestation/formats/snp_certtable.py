"""The GHCB certificate table that comes with an extended SEV-SNP report.

The hypervisor hands the guest its endorsement certificates with the report (the
extended guest request; configfs-tsm's ``auxblob`` holds the same bytes). The table is
a list of 24-byte entries, ended by an all-zero entry, followed by the certificates::

    entry:  GUID (16 bytes, RFC 4122 byte order) | offset u32 LE | length u32 LE

Offsets count from the start of the table and must point past its terminator. Known
GUIDs name the certificate's role; the ASK GUID also carries the ASVK.
"""

from __future__ import annotations

import struct
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from attestation.errors import MalformedEvidence

ENTRY_SIZE = 24
# role -> GUID of the GHCB specification
ROLE_GUIDS: dict[str, uuid.UUID] = {
    "vcek": uuid.UUID("63da758d-e664-4564-adc5-f4b93be8accd"),
    "vlek": uuid.UUID("a8074bc2-a25a-483e-aae6-39c045a0b8a1"),
    "ask": uuid.UUID("4ab7b379-bbac-4fe4-a02f-05aef327c782"),
    "ark": uuid.UUID("c0b406a4-a803-4952-9743-3fb6014cd0ae"),
}
_ROLES = {guid: role for role, guid in ROLE_GUIDS.items()}
_NIL = uuid.UUID(int=0)


@dataclass(frozen=True)
class CertTable:
    """The entries of a certificate table, in order: (GUID, bytes)."""

    entries: tuple[tuple[uuid.UUID, bytes], ...] = ()

    def __post_init__(self) -> None:
        guids = [guid for guid, _ in self.entries]
        if _NIL in guids:
            raise MalformedEvidence("the nil GUID ends the table", field="certtable")
        if len(set(guids)) != len(guids):
            raise MalformedEvidence("a GUID appears twice", field="certtable")

    @classmethod
    def from_roles(cls, certificates: Mapping[str, bytes]) -> CertTable:
        """A table holding ``certificates`` by role (``vcek``, ``vlek``, ``ask``, ``ark``)."""
        unknown = set(certificates) - set(ROLE_GUIDS)
        if unknown:
            raise ValueError(f"no GUID for roles {sorted(unknown)}")
        return cls(tuple((ROLE_GUIDS[role], der) for role, der in certificates.items()))

    def by_role(self) -> dict[str, bytes]:
        """The certificates whose GUID names a role; other entries are left out."""
        return {_ROLES[guid]: data for guid, data in self.entries if guid in _ROLES}

    def to_bytes(self) -> bytes:
        header = bytearray()
        body = bytearray()
        offset = ENTRY_SIZE * (len(self.entries) + 1)
        for guid, data in self.entries:
            header += guid.bytes + struct.pack("<II", offset + len(body), len(data))
            body += data
        return bytes(header + bytes(ENTRY_SIZE) + body)

    @classmethod
    def from_bytes(cls, data: bytes) -> CertTable:
        """Parse a table; trailing zero padding is allowed. Raise MalformedEvidence."""
        if not data:
            return cls()
        headers: list[tuple[int, uuid.UUID, int, int]] = []
        position = 0
        while True:
            if position + ENTRY_SIZE > len(data):
                raise MalformedEvidence(
                    "the table ends before its all-zero terminator",
                    field="certtable",
                    offset=position,
                )
            guid = uuid.UUID(bytes=data[position : position + 16])
            offset, length = struct.unpack_from("<II", data, position + 16)
            if guid == _NIL:
                if offset or length:
                    raise MalformedEvidence(
                        "the terminator must be all zero", field="certtable", offset=position
                    )
                break
            headers.append((position, guid, offset, length))
            position += ENTRY_SIZE
        end_of_headers = position + ENTRY_SIZE
        entries = []
        for at, guid, offset, length in headers:
            if offset < end_of_headers or offset + length > len(data):
                raise MalformedEvidence(
                    f"entry {guid} points at bytes {offset}..{offset + length}, outside "
                    f"the certificates ({end_of_headers}..{len(data)})",
                    field="certtable",
                    offset=at + 16,
                )
            entries.append((guid, data[offset : offset + length]))
        return cls(tuple(entries))
