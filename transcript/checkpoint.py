"""Checkpoints: an enclave's signed Merkle root over a contiguous ``seq`` range.

A checkpoint commits to the receipts ``first_seq..last_seq`` of one signing key (the
leaves are their 32-byte ids, in seq order), to the previous checkpoint of the same key
(``prev``, its digest; 32 zero bytes for the first), to the keyset, and to a time.

The signed digest is EIP-712 over::

    Checkpoint(address signer,uint64 firstSeq,uint64 lastSeq,bytes32 root,
               bytes32 prev,bytes32 keysetHash,uint64 timeMs)

so the anchor contract can rebuild it from the fields, ``ecrecover`` the signer and
enforce that each signer's ranges are contiguous. The digest doubles as the
checkpoint's hash. ``docs/spec/checkpoint-v1.md`` specifies it.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from transcript.digest import CHECKPOINT_TYPEHASH, abi_address, abi_word, eip712_digest
from transcript.errors import MalformedCheckpoint, SignatureInvalid
from transcript.hexfields import is_hex64, is_lower_hex, is_uint
from transcript.keccak import keccak256
from transcript.keys import SigningKey, parse_address, recover_address
from transcript.merkle import MerkleTree

CHECKPOINT_TYPE = "veritee.checkpoint.v1"
ZERO32 = b"\x00" * 32
MAX_UINT64 = 2**64 - 1
_KEYS = frozenset(
    ("type", "signer", "first_seq", "last_seq", "root", "prev", "keyset", "time_ms", "sig")
)


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """The signed fields of a checkpoint. Checked when constructed."""

    signer: str
    first_seq: int
    last_seq: int
    root: bytes
    prev: bytes
    keyset: bytes
    time_ms: int

    def __post_init__(self) -> None:
        try:
            if parse_address(self.signer) != self.signer:
                raise MalformedCheckpoint("must be EIP-55 checksummed", field="signer")
        except (ValueError, TypeError) as exc:
            raise MalformedCheckpoint(str(exc), field="signer") from None
        if not is_uint(self.first_seq, 1):
            raise MalformedCheckpoint("must be an integer >= 1", field="first_seq")
        if not is_uint(self.last_seq, self.first_seq):
            raise MalformedCheckpoint("must be an integer >= first_seq", field="last_seq")
        if not is_uint(self.time_ms) or self.time_ms > MAX_UINT64:
            raise MalformedCheckpoint("must be a non-negative integer", field="time_ms")
        for name in ("root", "prev", "keyset"):
            value = getattr(self, name)
            if type(value) is not bytes or len(value) != 32:
                raise MalformedCheckpoint("must be 32 bytes", field=name)
        if self.first_seq == 1 and self.prev != ZERO32:
            raise MalformedCheckpoint("the first checkpoint of a key has prev = zero", field="prev")

    @property
    def size(self) -> int:
        return self.last_seq - self.first_seq + 1

    def struct_hash(self) -> bytes:
        return keccak256(
            CHECKPOINT_TYPEHASH
            + abi_address(bytes.fromhex(self.signer[2:]))
            + abi_word(self.first_seq)
            + abi_word(self.last_seq)
            + self.root
            + self.prev
            + self.keyset
            + abi_word(self.time_ms)
        )

    def digest(self) -> bytes:
        """What the enclave signs, and the checkpoint's hash (the next one's ``prev``)."""
        return eip712_digest(self.struct_hash())


@dataclass(frozen=True, slots=True)
class SignedCheckpoint:
    checkpoint: Checkpoint
    signature: bytes

    @property
    def hash(self) -> bytes:
        return self.checkpoint.digest()

    def verify(self) -> None:
        """Raise :class:`SignatureInvalid` unless the named signer signed this checkpoint."""
        signer = recover_address(self.checkpoint.digest(), self.signature)
        if signer != self.checkpoint.signer:
            raise SignatureInvalid(
                f"checkpoint {self.checkpoint.first_seq}..{self.checkpoint.last_seq} was signed "
                f"by {signer}, not by the signer it names, {self.checkpoint.signer}"
            )

    def to_dict(self) -> dict[str, Any]:
        cp = self.checkpoint
        return {
            "type": CHECKPOINT_TYPE,
            "signer": cp.signer,
            "first_seq": cp.first_seq,
            "last_seq": cp.last_seq,
            "root": cp.root.hex(),
            "prev": cp.prev.hex(),
            "keyset": cp.keyset.hex(),
            "time_ms": cp.time_ms,
            "sig": self.signature.hex(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SignedCheckpoint:
        if not isinstance(data, Mapping) or set(data) != _KEYS:
            raise MalformedCheckpoint(f"a checkpoint is an object with the keys {sorted(_KEYS)}")
        if data["type"] != CHECKPOINT_TYPE:
            raise MalformedCheckpoint(f"must be {CHECKPOINT_TYPE!r}", field="type")
        for name in ("root", "prev", "keyset"):
            if not is_hex64(data[name]):
                raise MalformedCheckpoint("must be 64 lowercase hex digits", field=name)
        if not is_lower_hex(data["sig"], 130):
            raise MalformedCheckpoint("must be 130 lowercase hex digits", field="sig")
        checkpoint = Checkpoint(
            signer=data["signer"],
            first_seq=data["first_seq"],
            last_seq=data["last_seq"],
            root=bytes.fromhex(data["root"]),
            prev=bytes.fromhex(data["prev"]),
            keyset=bytes.fromhex(data["keyset"]),
            time_ms=data["time_ms"],
        )
        return cls(checkpoint, bytes.fromhex(data["sig"]))


def build_checkpoint(
    key: SigningKey,
    *,
    receipt_ids: Sequence[bytes],
    first_seq: int,
    prev: bytes,
    keyset: bytes,
    time_ms: int,
) -> tuple[SignedCheckpoint, MerkleTree]:
    """Sign a checkpoint over ``receipt_ids`` (the body hashes of seq ``first_seq``...).

    Returns the tree too, so the caller can serve inclusion proofs without rebuilding it.
    """
    tree = MerkleTree(receipt_ids)
    checkpoint = Checkpoint(
        signer=key.address,
        first_seq=first_seq,
        last_seq=first_seq + len(receipt_ids) - 1,
        root=tree.root,
        prev=prev,
        keyset=keyset,
        time_ms=time_ms,
    )
    return SignedCheckpoint(checkpoint, key.sign_digest(checkpoint.digest())), tree


@dataclass(frozen=True, slots=True)
class CheckpointGap:
    """Checkpoints of one signer that do not follow each other."""

    after_last_seq: int
    next_first_seq: int
    reason: str

    def __str__(self) -> str:
        return f"checkpoint starting at seq {self.next_first_seq} {self.reason}"


def check_checkpoint_chain(checkpoints: Sequence[SignedCheckpoint]) -> list[CheckpointGap]:
    """Check that one signer's checkpoints, in order, cover contiguous ranges and link up."""
    issues: list[CheckpointGap] = []
    for before, after in itertools.pairwise(checkpoints):
        a, b = before.checkpoint, after.checkpoint
        if b.first_seq != a.last_seq + 1:
            issues.append(
                CheckpointGap(a.last_seq, b.first_seq, f"does not follow seq {a.last_seq}")
            )
        if b.prev != before.hash:
            issues.append(
                CheckpointGap(a.last_seq, b.first_seq, "does not link to the checkpoint before it")
            )
    return issues
