"""The in-memory store: the shipped fake, with the same semantics as the databases."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence

from gateway.errors import StoreError
from gateway.store.base import ApiKeyRecord, ReceiptQuery, StoredCheckpoint, StoredReceipt
from transcript.checkpoint import SignedCheckpoint

_FILLED = ("enclave", "tenant", "key_id", "request_id")


class MemoryStore:
    """:class:`gateway.store.base.Store` in dictionaries; nothing survives the process."""

    def __init__(self, *, clock_ms: Callable[[], int] = lambda: time.time_ns() // 1_000_000):
        self._clock_ms = clock_ms
        self.receipts: dict[str, StoredReceipt] = {}
        self._checkpoints: dict[tuple[str, int], StoredCheckpoint] = {}
        self._keys: dict[str, ApiKeyRecord] = {}
        self._cursors: dict[str, int] = {}

    async def open(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def put_receipts(self, receipts: Sequence[StoredReceipt]) -> None:
        for new in receipts:
            old = self.receipts.get(new.id)
            if old is None:
                self.receipts[new.id] = new
                continue
            filled = {k: getattr(old, k) or getattr(new, k) for k in _FILLED}
            if old.verified and not new.verified:
                filled.update(verdict=new.verdict, problem=new.problem)
            self.receipts[new.id] = dataclasses.replace(old, **filled)

    async def get_receipt(self, receipt_id: str) -> StoredReceipt | None:
        return self.receipts.get(receipt_id)

    async def query_receipts(self, query: ReceiptQuery) -> list[StoredReceipt]:
        def keep(r: StoredReceipt) -> bool:
            return (
                all(
                    getattr(query, c) is None or getattr(query, c) == getattr(r, c)
                    for c in ("tenant", "model", "signer", "verdict")
                )
                and (query.since_ms is None or r.time_ms >= query.since_ms)
                and (query.until_ms is None or r.time_ms < query.until_ms)
                and (query.after is None or (r.time_ms, r.id) > query.after)
            )

        found = sorted(
            (r for r in self.receipts.values() if keep(r)), key=lambda r: (r.time_ms, r.id)
        )
        return found[: query.limit]

    async def last_seq(self, signer: str) -> int:
        return max((r.seq or 0 for r in self.receipts.values() if r.signer == signer), default=0)

    async def existing(self, ids: Sequence[str]) -> set[str]:
        return {i for i in ids if i in self.receipts}

    async def count_seqs(self, signer: str, after_seq: int, up_to: int) -> int:
        return len(
            {
                r.seq
                for r in self.receipts.values()
                if r.signer == signer and r.seq is not None and after_seq < r.seq <= up_to
            }
        )

    async def sync_cursor(self, signer: str) -> int:
        return self._cursors.get(signer, 0)

    async def set_sync_cursor(self, signer: str, seq: int) -> None:
        self._cursors[signer] = max(seq, self._cursors.get(signer, 0))

    async def put_checkpoints(self, enclave: str, checkpoints: Sequence[SignedCheckpoint]) -> None:
        now = self._clock_ms()
        for c in checkpoints:
            key = (c.checkpoint.signer, c.checkpoint.first_seq)
            self._checkpoints.setdefault(key, StoredCheckpoint(c, enclave, now))

    async def checkpoints(
        self, signer: str, *, after_seq: int = 0, limit: int = 1000
    ) -> list[StoredCheckpoint]:
        found = sorted(
            (c for (s, first), c in self._checkpoints.items() if s == signer and first > after_seq),
            key=lambda c: c.checkpoint.checkpoint.first_seq,
        )
        return found[:limit]

    async def latest_checkpoint(self, signer: str) -> StoredCheckpoint | None:
        found = await self.checkpoints(signer, limit=len(self._checkpoints))
        return found[-1] if found else None

    async def checkpoint_signers(self) -> list[str]:
        return sorted({s for s, _ in self._checkpoints})

    async def add_key(self, record: ApiKeyRecord) -> None:
        if record.key_id in self._keys or any(
            k.key_sha256 == record.key_sha256 for k in self._keys.values()
        ):
            raise StoreError("already stored: the key id or key hash exists")
        self._keys[record.key_id] = record

    async def find_key(self, key_sha256: str) -> ApiKeyRecord | None:
        return next((k for k in self._keys.values() if k.key_sha256 == key_sha256), None)

    async def list_keys(self) -> list[ApiKeyRecord]:
        return sorted(self._keys.values(), key=lambda k: (k.tenant, k.created_ms))

    async def revoke_key(self, key_id: str, at_ms: int) -> bool:
        record = self._keys.get(key_id)
        if record is None or not record.active:
            return False
        self._keys[key_id] = dataclasses.replace(record, revoked_ms=at_ms)
        return True
