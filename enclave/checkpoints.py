"""Checkpoints: the enclave signs a Merkle root over its receipts every N receipts or T seconds.

The :class:`Checkpointer` is fed every receipt in ``seq`` order by the receipt log. It
cuts a checkpoint (``transcript.build_checkpoint``) when ``every_receipts`` are pending,
or when :meth:`Checkpointer.cut` is called (the app's timer does so every
``checkpoint_every_seconds``). It keeps the last ``keep`` checkpoints *with their Merkle
trees*, so an inclusion proof for any receipt they cover costs O(log n) and no rebuild.
"""

from __future__ import annotations

import bisect
import threading
from dataclasses import dataclass
from typing import Any

from enclave.identity import Clock, Identity
from transcript.checkpoint import ZERO32, SignedCheckpoint, build_checkpoint
from transcript.merkle import MerkleTree
from transcript.receipt import Receipt


@dataclass(frozen=True, slots=True)
class InclusionProof:
    """Receipt ``receipt_id`` is leaf ``leaf_index`` of the tree under ``checkpoint.root``."""

    receipt_id: bytes
    leaf_index: int
    tree_size: int
    path: tuple[bytes, ...]
    checkpoint: SignedCheckpoint

    def to_dict(self) -> dict[str, Any]:
        return {
            "receipt_id": self.receipt_id.hex(),
            "leaf_index": self.leaf_index,
            "tree_size": self.tree_size,
            "path": [node.hex() for node in self.path],
            "checkpoint": self.checkpoint.to_dict(),
        }


@dataclass(frozen=True, slots=True)
class _Held:
    signed: SignedCheckpoint
    tree: MerkleTree
    ids: tuple[bytes, ...]


class Checkpointer:
    """Cuts, signs and keeps checkpoints over one key's receipts."""

    def __init__(self, identity: Identity, *, every_receipts: int, keep: int, clock: Clock) -> None:
        if every_receipts < 1 or keep < 1:
            raise ValueError("every_receipts and keep must be at least 1")
        self._identity = identity
        self._every = every_receipts
        self._keep = keep
        self._clock = clock
        self._lock = threading.Lock()
        self._pending: list[bytes] = []
        self._pending_first = 1
        self._prev = ZERO32
        self._held: list[_Held] = []
        self._firsts: list[int] = []  # first_seq of each held checkpoint, for bisect

    def add(self, receipt: Receipt) -> None:
        """Take the next receipt of the chain (called in ``seq`` order by the log)."""
        with self._lock:
            expected = self._pending_first + len(self._pending)
            if receipt.body.seq != expected:
                raise ValueError(f"receipt seq {receipt.body.seq} out of order, wanted {expected}")
            self._pending.append(receipt.body_hash)
            if len(self._pending) >= self._every:
                self._cut_locked()

    def cut(self) -> SignedCheckpoint | None:
        """Cut a checkpoint over the pending receipts now, if there are any."""
        with self._lock:
            return self._cut_locked()

    def _cut_locked(self) -> SignedCheckpoint | None:
        if not self._pending:
            return None
        ids = tuple(self._pending)
        signed, tree = build_checkpoint(
            self._identity.key,
            receipt_ids=ids,
            first_seq=self._pending_first,
            prev=self._prev,
            keyset=self._identity.keyset_hash,
            time_ms=self._clock(),
        )
        self._held.append(_Held(signed, tree, ids))
        self._firsts.append(self._pending_first)
        if len(self._held) > self._keep:
            del self._held[0]
            del self._firsts[0]
        self._prev = signed.hash
        self._pending_first += len(ids)
        self._pending = []
        return signed

    def after(self, seq: int, limit: int = 100) -> list[SignedCheckpoint]:
        """Held checkpoints covering receipts after ``seq`` (``last_seq > seq``), oldest first."""
        with self._lock:
            start = max(bisect.bisect_right(self._firsts, seq) - 1, 0)
            out = [h.signed for h in self._held[start:] if h.signed.checkpoint.last_seq > seq]
            return out[:limit]

    def proof(self, seq: int, receipt_id: bytes) -> InclusionProof | None:
        """The inclusion proof of receipt ``seq`` (with id ``receipt_id``), if still held.

        ``None`` when that receipt is not checkpointed yet, or its checkpoint was dropped.
        """
        with self._lock:
            i = bisect.bisect_right(self._firsts, seq) - 1
            if i < 0:
                return None
            held = self._held[i]
            cp = held.signed.checkpoint
            if not cp.first_seq <= seq <= cp.last_seq:
                return None
            index = seq - cp.first_seq
            if held.ids[index] != receipt_id:
                return None
            return InclusionProof(
                receipt_id=receipt_id,
                leaf_index=index,
                tree_size=held.tree.size,
                path=tuple(held.tree.proof(index)),
                checkpoint=held.signed,
            )

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._pending)
