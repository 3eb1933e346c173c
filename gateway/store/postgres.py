"""The shared store: PostgreSQL through psycopg 3 (the ``postgres`` extra).

Replicas of the gateway point at one database. Writes are batched like the SQLite store's:
one writer task takes every write waiting (up to ``batch_max``), runs each in its own
savepoint of one transaction, commits once (durable under PostgreSQL's default
``synchronous_commit = on``), then resolves the callers. Reads use the pool directly.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

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
from gateway.store.sql import (
    POSTGRES,
    anchor_from_row,
    anchor_row,
    attestation_from_row,
    attestation_row,
    checkpoint_from_row,
    checkpoint_row,
    covering,
    key_from_row,
    key_row,
    receipt_from_row,
    receipt_row,
    summaries_from_rows,
)
from transcript.checkpoint import SignedCheckpoint

if TYPE_CHECKING:
    from psycopg import AsyncConnection
    from psycopg_pool import AsyncConnectionPool

T = TypeVar("T")
Job = Callable[["AsyncConnection[Any]"], Awaitable[Any]]
SCHEMA_LOCK = 0x7665726974656501  # pg_advisory_xact_lock key: replicas create the schema in turn
CommitObserver = Callable[[int, float], None]


class PostgresStore(StoreLifecycle):
    """:class:`gateway.store.base.Store` on PostgreSQL."""

    def __init__(
        self,
        dsn: str,
        *,
        batch_max: int = 256,
        pool_size: int = 8,
        clock_ms: Callable[[], int] = lambda: time.time_ns() // 1_000_000,
        on_commit: CommitObserver | None = None,
    ) -> None:
        self._dsn = dsn
        self._batch_max = batch_max
        self._pool_size = pool_size
        self._clock_ms = clock_ms
        self._on_commit = on_commit
        self._pool: AsyncConnectionPool | None = None
        self._queue: asyncio.Queue[tuple[Job, asyncio.Future[Any]] | None] | None = None
        self._writer: asyncio.Task[None] | None = None

    async def open(self) -> None:
        try:
            from psycopg import Error as PgError
            from psycopg_pool import AsyncConnectionPool
        except ImportError:
            raise StoreError(
                "a postgresql:// store needs the postgres extra: pip install 'veritee[postgres]'"
            ) from None
        self._pg_error: type[Exception] = PgError
        pool = AsyncConnectionPool(
            self._dsn, min_size=1, max_size=self._pool_size, open=False, timeout=10.0
        )
        try:
            await pool.open(wait=True, timeout=10.0)
            async with pool.connection() as conn, conn.transaction():
                await conn.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
                for statement in POSTGRES.schema():
                    await conn.execute(statement)
        except Exception as exc:  # noqa: BLE001 - psycopg and pool errors alike: cannot open
            await pool.close()
            raise StoreError(f"cannot open the PostgreSQL store: {exc}") from None
        self._pool = pool
        self._queue = asyncio.Queue()
        self._writer = asyncio.create_task(self._write_loop(), name="veritee-store-writer")

    async def close(self) -> None:
        if self._writer is not None and self._queue is not None:
            await self._queue.put(None)
            await self._writer
            self._writer = None
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    async def _write_loop(self) -> None:
        assert self._queue is not None
        while True:
            first = await self._queue.get()
            if first is None:
                return
            batch = [first]
            stop = False
            while len(batch) < self._batch_max and not self._queue.empty():
                more = self._queue.get_nowait()
                if more is None:
                    stop = True
                    break
                batch.append(more)
            await self._commit(batch)
            if stop:
                return

    async def _commit(self, batch: list[tuple[Job, asyncio.Future[Any]]]) -> None:
        assert self._pool is not None
        started = time.perf_counter()
        results: list[tuple[Any, BaseException | None]] = []
        try:
            async with self._pool.connection() as conn, conn.transaction():
                for job, _future in batch:
                    try:
                        async with conn.transaction():  # a savepoint per job
                            value = await job(conn)
                    except self._pg_error as exc:
                        results.append((None, StoreError(f"PostgreSQL write failed: {exc}")))
                    else:
                        results.append((value, None))
        except Exception as exc:  # noqa: BLE001 - every waiter must hear about it
            failed: BaseException = StoreError(f"PostgreSQL commit failed: {exc}")
            results = [(None, failed)] * len(batch)
        if self._on_commit is not None:
            self._on_commit(len(batch), time.perf_counter() - started)
        for (_job, future), (value, error) in zip(batch, results, strict=True):
            if future.done():
                continue
            if error is None:
                future.set_result(value)
            else:
                future.set_exception(error)

    async def _write(self, job: Job) -> Any:
        if self._queue is None:
            raise StoreError("the store is not open")
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        await self._queue.put((job, future))
        return await future

    async def _execute(self, sql: str, row: Sequence[Any]) -> None:
        async def job(conn: AsyncConnection[Any]) -> None:
            await conn.execute(sql, row)

        await self._write(job)

    async def _fetch(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        if self._pool is None:
            raise StoreError("the store is not open")
        try:
            async with self._pool.connection() as conn:
                cursor = await conn.execute(sql, params)
                return await cursor.fetchall()
        except self._pg_error as exc:
            raise StoreError(f"PostgreSQL read failed: {exc}") from None

    # -- receipts ------------------------------------------------------------------------

    async def put_receipts(self, receipts: Sequence[StoredReceipt]) -> None:
        rows = [receipt_row(r) for r in receipts]

        async def job(conn: AsyncConnection[Any]) -> None:
            async with conn.cursor() as cursor:
                await cursor.executemany(POSTGRES.upsert_receipt(), rows)

        await self._write(job)

    async def get_receipt(self, receipt_id: str) -> StoredReceipt | None:
        rows = await self._fetch(POSTGRES.select_receipt(), (receipt_id,))
        return receipt_from_row(rows[0]) if rows else None

    async def query_receipts(self, query: ReceiptQuery) -> list[StoredReceipt]:
        sql, params = POSTGRES.select_receipts(query)
        return [receipt_from_row(r) for r in await self._fetch(sql, params)]

    async def last_seq(self, signer: str) -> int:
        rows = await self._fetch("SELECT MAX(seq) FROM receipts WHERE signer = %s", (signer,))
        return int(rows[0][0] or 0)

    async def existing(self, ids: Sequence[str]) -> set[str]:
        if not ids:
            return set()
        rows = await self._fetch("SELECT id FROM receipts WHERE id = ANY(%s)", (list(ids),))
        return {r[0] for r in rows}

    async def count_seqs(self, signer: str, after_seq: int, up_to: int) -> int:
        rows = await self._fetch(POSTGRES.count_seqs(), (signer, after_seq, up_to))
        return int(rows[0][0])

    async def sync_cursor(self, signer: str) -> int:
        rows = await self._fetch("SELECT seq FROM sync_cursors WHERE signer = %s", (signer,))
        return int(rows[0][0]) if rows else 0

    async def set_sync_cursor(self, signer: str, seq: int) -> None:
        await self._execute(POSTGRES.advance_cursor(), (signer, seq))

    async def receipts_by_seq(
        self, signer: str, first_seq: int, last_seq: int
    ) -> list[StoredReceipt]:
        rows = await self._fetch(POSTGRES.select_receipts_by_seq(), (signer, first_seq, last_seq))
        return [receipt_from_row(r) for r in rows]

    # -- checkpoints ---------------------------------------------------------------------

    async def put_checkpoints(self, enclave: str, checkpoints: Sequence[SignedCheckpoint]) -> None:
        now = self._clock_ms()
        rows = [checkpoint_row(enclave, c, now) for c in checkpoints]

        async def job(conn: AsyncConnection[Any]) -> None:
            async with conn.cursor() as cursor:
                await cursor.executemany(POSTGRES.insert_checkpoint(), rows)

        await self._write(job)

    async def checkpoints(
        self, signer: str, *, after_seq: int = 0, limit: int = 1000
    ) -> list[StoredCheckpoint]:
        sql = POSTGRES.select_checkpoints()
        return [checkpoint_from_row(r) for r in await self._fetch(sql, (signer, after_seq, limit))]

    async def latest_checkpoint(self, signer: str) -> StoredCheckpoint | None:
        sql = POSTGRES.select_latest_checkpoint()
        rows = await self._fetch(sql, (signer,))
        return checkpoint_from_row(rows[0]) if rows else None

    async def checkpoint_covering(self, signer: str, seq: int) -> StoredCheckpoint | None:
        rows = await self._fetch(POSTGRES.select_checkpoint_covering(), (signer, seq))
        return covering(rows[0] if rows else None, seq)

    async def checkpoint_signers(self) -> list[str]:
        rows = await self._fetch("SELECT DISTINCT signer FROM checkpoints ORDER BY signer", ())
        return [r[0] for r in rows]

    # -- anchoring -----------------------------------------------------------------------

    async def put_anchor_record(self, record: AnchorRecord) -> None:
        await self._execute(POSTGRES.upsert_anchor(), anchor_row(record))

    async def anchor_record(
        self, contract: str, signer: str, first_seq: int
    ) -> AnchorRecord | None:
        rows = await self._fetch(POSTGRES.select_anchor(), (contract, signer, first_seq))
        return anchor_from_row(rows[0]) if rows else None

    async def anchor_records(
        self, contract: str, signer: str, *, after_seq: int = 0, limit: int = 1000
    ) -> list[AnchorRecord]:
        rows = await self._fetch(POSTGRES.select_anchors(), (contract, signer, after_seq, limit))
        return [anchor_from_row(r) for r in rows]

    async def anchor_summary(self, contract: str) -> list[AnchorSummary]:
        return summaries_from_rows(await self._fetch(POSTGRES.anchor_summary(), (contract,)))

    async def put_attestation(self, record: AttestationRecord) -> None:
        await self._execute(POSTGRES.insert_attestation(), attestation_row(record))

    async def attestation(self, signer: str) -> AttestationRecord | None:
        rows = await self._fetch(POSTGRES.select_attestations(one=True), (signer,))
        return attestation_from_row(rows[0]) if rows else None

    async def attestations(self) -> list[AttestationRecord]:
        rows = await self._fetch(POSTGRES.select_attestations(one=False), ())
        return [attestation_from_row(r) for r in rows]

    # -- tenants -------------------------------------------------------------------------

    async def add_key(self, record: ApiKeyRecord) -> None:
        await self._execute(POSTGRES.insert_key(), key_row(record))

    async def find_key(self, key_sha256: str) -> ApiKeyRecord | None:
        sql = POSTGRES.select_key()
        rows = await self._fetch(sql, (key_sha256,))
        return key_from_row(rows[0]) if rows else None

    async def list_keys(self) -> list[ApiKeyRecord]:
        sql = POSTGRES.select_keys()
        return [key_from_row(r) for r in await self._fetch(sql, ())]

    async def revoke_key(self, key_id: str, at_ms: int) -> bool:
        sql = "UPDATE api_keys SET revoked_ms = %s WHERE key_id = %s AND revoked_ms IS NULL"

        async def job(conn: AsyncConnection[Any]) -> int:
            cursor = await conn.execute(sql, (at_ms, key_id))
            return cursor.rowcount

        return bool(await self._write(job))
