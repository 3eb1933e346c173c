"""The in-memory store: the shipped fake, with the same semantics as the databases."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence

from gateway.errors import StoreError
from gateway.store.base import (
    AnchorRecord,
    AnchorSummary,
    ApiKeyRecord,
    AttestationRecord,
    ReceiptQuery,
    StoredCheckpoint,
    StoredReceipt,
    StoreLifecycle,
)
from gateway.store.sql import summary
from transcript.checkpoint import SignedCheckpoint

_FILLED = ("enclave", "tenant", "key_id", "request_id")


class MemoryStore(StoreLifecycle):
    """:class:`gateway.store.base.Store` in dictionaries; nothing survives the process."""

    def __init__(self, *, clock_ms: Callable[[], int] = lambda: time.time_ns() // 1_000_000):
        self._clock_ms = clock_ms
        self.receipts: dict[str, StoredReceipt] = {}
        self._checkpoints: dict[tuple[str, int], StoredCheckpoint] = {}
        self._keys: dict[str, ApiKeyRecord] = {}
        self._cursors: dict[str, int] = {}
        self._anchors: dict[tuple[str, str, int], AnchorRecord] = {}
        self._attestations: dict[str, AttestationRecord] = {}

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

    async def receipts_by_seq(
        self, signer: str, first_seq: int, last_seq: int
    ) -> list[StoredReceipt]:
        found = [
            r
            for r in self.receipts.values()
            if r.signer == signer and r.seq is not None and first_seq <= r.seq <= last_seq
        ]
        return sorted(found, key=lambda r: (r.seq or 0, r.id))

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

    async def checkpoint_covering(self, signer: str, seq: int) -> StoredCheckpoint | None:
        found = [c for (s, first), c in self._checkpoints.items() if s == signer and first <= seq]
        if not found:
            return None
        latest = max(found, key=lambda c: c.checkpoint.checkpoint.first_seq)
        return latest if latest.checkpoint.checkpoint.last_seq >= seq else None

    async def checkpoint_signers(self) -> list[str]:
        return sorted({s for s, _ in self._checkpoints})

    async def put_anchor_record(self, record: AnchorRecord) -> None:
        key = (record.contract, record.signer, record.first_seq)
        old = self._anchors.get(key)
        if old is None or old.state != "confirmed" or record.state == "confirmed":
            self._anchors[key] = record

    async def anchor_record(
        self, contract: str, signer: str, first_seq: int
    ) -> AnchorRecord | None:
        return self._anchors.get((contract, signer, first_seq))

    async def anchor_records(
        self, contract: str, signer: str, *, after_seq: int = 0, limit: int = 1000
    ) -> list[AnchorRecord]:
        found = sorted(
            (r for (c, s, first), r in self._anchors.items()
             if c == contract and s == signer and first > after_seq),
            key=lambda r: r.first_seq,
        )  # fmt: skip
        return found[:limit]

    async def anchor_summary(self, contract: str) -> list[AnchorSummary]:
        by_signer: dict[str, dict[str, tuple[int, int]]] = {}
        for (signer, first), stored in sorted(self._checkpoints.items()):
            record = self._anchors.get((contract, signer, first))
            state = record.state if record else "pending"
            count, last = by_signer.setdefault(signer, {}).get(state, (0, 0))
            last_seq = stored.checkpoint.checkpoint.last_seq
            by_signer[signer][state] = (count + 1, max(last, last_seq))
        return [summary(signer, states) for signer, states in sorted(by_signer.items())]

    async def put_attestation(self, record: AttestationRecord) -> None:
        self._attestations.setdefault(record.signer, record)

    async def attestation(self, signer: str) -> AttestationRecord | None:
        return self._attestations.get(signer)

    async def attestations(self) -> list[AttestationRecord]:
        return sorted(self._attestations.values(), key=lambda a: (a.verified_at_ms, a.signer))

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
