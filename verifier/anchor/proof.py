"""The anchored inclusion proof of one receipt: Merkle path, checkpoint, anchoring transaction.

JSON form (``docs/spec/anchor-contracts.md``, "Inclusion proofs")::

    {"type": "veritee.inclusion.v1", "receipt_id": <64 hex>, "seq": <int>,
     "path": [<64 hex>, ...], "checkpoint": <signed checkpoint>, "tx_hash": <64 hex>}

The leaf index is ``seq - checkpoint.first_seq``: a checkpoint's leaves are the ids of its
receipts in seq order. Which chain and which contract to ask is the verifier's own trusted
configuration, never something the proof says.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from transcript.checkpoint import SignedCheckpoint
from transcript.errors import MalformedCheckpoint
from transcript.hexfields import is_hex64, is_uint
from verifier.anchor.errors import MalformedInclusionProof

INCLUSION_TYPE = "veritee.inclusion.v1"
_KEYS = frozenset(("type", "receipt_id", "seq", "path", "checkpoint", "tx_hash"))
MAX_PATH = 64


def _bad(field: str, message: str) -> MalformedInclusionProof:
    return MalformedInclusionProof("anchor.proof", f"{field}: {message}")


@dataclass(frozen=True, slots=True)
class InclusionProof:
    receipt_id: bytes
    seq: int
    path: tuple[bytes, ...]
    checkpoint: SignedCheckpoint
    tx_hash: bytes

    def __post_init__(self) -> None:
        if type(self.receipt_id) is not bytes or len(self.receipt_id) != 32:
            raise _bad("receipt_id", "must be 32 bytes")
        if type(self.tx_hash) is not bytes or len(self.tx_hash) != 32:
            raise _bad("tx_hash", "must be 32 bytes")
        cp = self.checkpoint.checkpoint
        if not is_uint(self.seq, 1) or not cp.first_seq <= self.seq <= cp.last_seq:
            raise _bad("seq", f"must lie in the checkpoint's range {cp.first_seq}..{cp.last_seq}")
        if len(self.path) > MAX_PATH or any(
            type(n) is not bytes or len(n) != 32 for n in self.path
        ):
            raise _bad("path", f"must be at most {MAX_PATH} nodes of 32 bytes")

    @property
    def leaf_index(self) -> int:
        return self.seq - self.checkpoint.checkpoint.first_seq

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": INCLUSION_TYPE,
            "receipt_id": self.receipt_id.hex(),
            "seq": self.seq,
            "path": [node.hex() for node in self.path],
            "checkpoint": self.checkpoint.to_dict(),
            "tx_hash": self.tx_hash.hex(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> InclusionProof:
        if not isinstance(data, Mapping) or set(data) != _KEYS:
            raise _bad("proof", f"an inclusion proof is an object with the keys {sorted(_KEYS)}")
        if data["type"] != INCLUSION_TYPE:
            raise _bad("type", f"must be {INCLUSION_TYPE!r}")
        for name in ("receipt_id", "tx_hash"):
            if not is_hex64(data[name]):
                raise _bad(name, "must be 64 lowercase hex digits")
        path = data["path"]
        if not isinstance(path, Sequence) or isinstance(path, str):
            raise _bad("path", "must be a list")
        if not all(is_hex64(node) for node in path):
            raise _bad("path", "every node is 64 lowercase hex digits")
        try:
            checkpoint = SignedCheckpoint.from_dict(data["checkpoint"])
        except MalformedCheckpoint as exc:
            raise _bad("checkpoint", str(exc)) from None
        return cls(
            receipt_id=bytes.fromhex(data["receipt_id"]),
            seq=data["seq"],
            path=tuple(bytes.fromhex(node) for node in path),
            checkpoint=checkpoint,
            tx_hash=bytes.fromhex(data["tx_hash"]),
        )
