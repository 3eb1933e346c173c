"""Real receipts and checkpoints for anchoring tests: a signing key's transcript, in order."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field

from transcript import (
    MerkleTree,
    Receipt,
    ReceiptBody,
    SignedCheckpoint,
    SigningKey,
    Upstream,
    build_checkpoint,
    sign_receipt,
)
from transcript.checkpoint import ZERO32

KEYSET = hashlib.sha256(b"veritee test keyset").digest()
T0_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z


def make_receipts(key: SigningKey, first_seq: int, count: int, prev: bytes) -> list[Receipt]:
    """``count`` signed receipts of ``key`` with seq ``first_seq``.., chained from ``prev``."""
    receipts = []
    for seq in range(first_seq, first_seq + count):
        body = ReceiptBody(
            signer=key.address,
            keyset=KEYSET.hex(),
            seq=seq,
            prev=prev.hex(),
            time_ms=T0_MS + seq,
            request_sha256=hashlib.sha256(b"request %d" % seq).hexdigest(),
            response_sha256=hashlib.sha256(b"response %d" % seq).hexdigest(),
            stream=False,
            status="complete",
            http_status=200,
            model="test-model",
            upstream=Upstream(provider="openai", host="upstream.test", status=200),
            usage={"prompt_tokens": 3, "completion_tokens": 5},
        )
        receipt = sign_receipt(key, body)
        receipts.append(receipt)
        prev = receipt.body_hash
    return receipts


@dataclass
class Transcript:
    """One enclave key's receipts, cut into checkpoints as the enclave would sign them."""

    key: SigningKey = field(default_factory=SigningKey.generate)
    receipts: list[Receipt] = field(default_factory=list)
    checkpoints: list[SignedCheckpoint] = field(default_factory=list)
    trees: list[MerkleTree] = field(default_factory=list)

    @property
    def address(self) -> str:
        return self.key.address

    def next_checkpoint(self, size: int) -> SignedCheckpoint:
        """Sign the next ``size`` receipts into the next checkpoint (nothing is anchored)."""
        last_receipt = self.receipts[-1].body_hash if self.receipts else ZERO32
        batch = make_receipts(self.key, len(self.receipts) + 1, size, last_receipt)
        self.receipts += batch
        signed, tree = build_checkpoint(
            self.key,
            receipt_ids=[r.body_hash for r in batch],
            first_seq=batch[0].body.seq,
            prev=self.checkpoints[-1].hash if self.checkpoints else ZERO32,
            keyset=KEYSET,
            time_ms=T0_MS + len(self.receipts),
        )
        self.checkpoints.append(signed)
        self.trees.append(tree)
        return signed


def random32() -> bytes:
    return os.urandom(32)
