"""PCR selections (TPML_PCR_SELECTION) and the PCR values that travel with a quote.

A quote signs only a digest of the selected PCRs, so the values themselves travel beside
it, in ``Evidence.extra["pcrs"]``, in this encoding (veritee's, built from TPM types,
big-endian)::

    TPML_PCR_SELECTION  selection      which banks and PCRs, in the quote's order
    UINT32              count          the number of selected PCRs over all banks
    TPM2B_DIGEST        value[count]   bank by bank in selection order, PCRs ascending

That order is the order in which TPM2_Quote concatenates PCRs before hashing them into
``pcrDigest`` (TPM 2.0 Part 3, TPM2_Quote; Part 1, PCR selection), so
:meth:`PcrValues.digest` recomputes the quoted digest directly.
"""

from __future__ import annotations

from dataclasses import dataclass

from attestation.errors import MalformedEvidence
from attestation.formats.tpm.constants import (
    HASHES_BY_NAME,
    MAX_DIGEST_SIZE,
    HashAlg,
    alg_name,
    hash_alg,
)
from attestation.formats.tpm.wire import Reader, tpm2b, u8, u16, u32

MAX_BANKS = 16  # more banks than any TPM implements
MAX_SIZEOF_SELECT = 4  # 32 PCRs; TPMs implement 24 (sizeofSelect 3)


@dataclass(frozen=True)
class PcrBank:
    """One TPMS_PCR_SELECTION: a hash bank and the PCR indices selected in it."""

    hash_alg: int
    indices: tuple[int, ...]
    size_of_select: int = 3

    def __post_init__(self) -> None:
        if not 0 <= self.size_of_select <= MAX_SIZEOF_SELECT:
            raise MalformedEvidence(
                f"sizeofSelect {self.size_of_select} out of range", field="pcr_selection"
            )
        limit = 8 * self.size_of_select
        if list(self.indices) != sorted(set(self.indices)) or any(
            not 0 <= i < limit for i in self.indices
        ):
            raise MalformedEvidence(
                f"PCR indices must be distinct, ascending and below {limit}",
                field="pcr_selection",
            )

    @property
    def hash(self) -> HashAlg:
        found = hash_alg(self.hash_alg)
        if found is None:
            raise MalformedEvidence(
                f"unsupported PCR bank {alg_name(self.hash_alg)}", field="pcr_selection.hash"
            )
        return found

    def to_bytes(self) -> bytes:
        bitmap = bytearray(self.size_of_select)
        for i in self.indices:
            bitmap[i // 8] |= 1 << (i % 8)
        return u16(self.hash_alg) + u8(self.size_of_select) + bytes(bitmap)

    @classmethod
    def read(cls, r: Reader, field: str) -> PcrBank:
        start = r.offset
        alg = r.u16(f"{field}.hash")
        size = r.u8(f"{field}.sizeofSelect")
        if size > MAX_SIZEOF_SELECT:
            raise r.fail(f"{field}.sizeofSelect", f"{size} exceeds {MAX_SIZEOF_SELECT}", at=start)
        bitmap = r.take(size, f"{field}.pcrSelect")
        indices = tuple(i for i in range(8 * size) if bitmap[i // 8] >> (i % 8) & 1)
        return cls(alg, indices, size)


@dataclass(frozen=True)
class PcrSelection:
    """TPML_PCR_SELECTION: the banks in order."""

    banks: tuple[PcrBank, ...]

    def __post_init__(self) -> None:
        if len(self.banks) > MAX_BANKS:
            raise MalformedEvidence(f"more than {MAX_BANKS} banks", field="pcr_selection")

    @classmethod
    def of(cls, bank: str, indices: list[int] | tuple[int, ...] | range) -> PcrSelection:
        """One bank by name (``sha256``...) with the given PCR indices."""
        if bank not in HASHES_BY_NAME:
            raise ValueError(f"unknown PCR bank {bank!r}; have {sorted(HASHES_BY_NAME)}")
        ordered = tuple(sorted(set(indices)))
        size = max(3, (ordered[-1] // 8 + 1) if ordered else 3)
        return cls((PcrBank(HASHES_BY_NAME[bank].alg, ordered, size),))

    def pairs(self) -> list[tuple[PcrBank, int]]:
        """Every selected (bank, PCR index), in quote order."""
        return [(bank, i) for bank in self.banks for i in bank.indices]

    def same_as(self, other: PcrSelection) -> bool:
        """The same PCRs in the same bank order (the bitmap width does not matter)."""
        return [(b.hash_alg, b.indices) for b in self.banks] == [
            (b.hash_alg, b.indices) for b in other.banks
        ]

    def to_bytes(self) -> bytes:
        return u32(len(self.banks)) + b"".join(b.to_bytes() for b in self.banks)

    @classmethod
    def read(cls, r: Reader, field: str = "pcrSelect") -> PcrSelection:
        start = r.offset
        count = r.u32(f"{field}.count")
        if count > MAX_BANKS:
            raise r.fail(f"{field}.count", f"{count} exceeds {MAX_BANKS}", at=start)
        return cls(tuple(PcrBank.read(r, f"{field}[{n}]") for n in range(count)))


@dataclass(frozen=True)
class PcrValues:
    """The selected PCRs' values, in quote order (see the module docstring)."""

    selection: PcrSelection
    values: tuple[bytes, ...]

    def __post_init__(self) -> None:
        pairs = self.selection.pairs()
        if len(pairs) != len(self.values):
            raise MalformedEvidence(
                f"{len(self.values)} values for {len(pairs)} selected PCRs", field="pcrs.count"
            )
        for (bank, index), value in zip(pairs, self.values, strict=True):
            if len(value) != bank.hash.size:
                raise MalformedEvidence(
                    f"PCR {index} in bank {bank.hash.name} is {len(value)} bytes, "
                    f"not {bank.hash.size}",
                    field=f"pcrs.value[{bank.hash.name}:{index}]",
                )

    def items(self) -> list[tuple[str, int, bytes]]:
        """(bank name, PCR index, value) in quote order."""
        return [
            (bank.hash.name, index, value)
            for (bank, index), value in zip(self.selection.pairs(), self.values, strict=True)
        ]

    def digest(self, hash_with: HashAlg) -> bytes:
        """The quote's pcrDigest: ``H(value_1 ‖ … ‖ value_n)`` with the signing hash."""
        return hash_with.digest(b"".join(self.values))

    def to_bytes(self) -> bytes:
        return (
            self.selection.to_bytes()
            + u32(len(self.values))
            + b"".join(tpm2b(v) for v in self.values)
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> PcrValues:
        r = Reader(data, structure="pcrs")
        selection = PcrSelection.read(r, "selection")
        start = r.offset
        count = r.u32("count")
        if count != len(selection.pairs()):
            raise r.fail("count", f"{count} values for {len(selection.pairs())} PCRs", at=start)
        values = tuple(r.tpm2b(f"value[{n}]", max_size=MAX_DIGEST_SIZE) for n in range(count))
        r.end()
        return cls(selection, values)
