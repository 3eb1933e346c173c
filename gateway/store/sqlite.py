"""The default store: one SQLite file in WAL mode, written by one thread with group commit.

Writes never run on the event loop. Every write is a job for the writer thread, which
takes all the jobs waiting (up to ``batch_max``), runs each inside its own savepoint of
one transaction, commits once, and only then resolves the callers' futures: a request
whose receipt is being stored waits for one commit, and concurrent requests share it.
With ``synchronous = "full"`` (the default) a commit is durable against power loss;
``"normal"`` is durable against a crash of the gateway but not of the machine.
Reads run on a second thread with their own connection (WAL lets them run alongside).

Checkpoints (copying the write-ahead log into the database file, with an fsync) never run
inside a commit: automatic checkpoints are off, and a third thread runs a passive
checkpoint every ``CHECKPOINT_SECONDS``, so no request waits for one.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

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
    SQLITE,
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

T = TypeVar("T")
CHECKPOINT_SECONDS = 1.0
CommitObserver = Callable[[int, float], None]  # (jobs in the batch, seconds the commit took)


@dataclass(slots=True)
class _Job:
    run: Callable[[sqlite3.Connection], Any]
    future: asyncio.Future[Any]
    loop: asyncio.AbstractEventLoop


def _settle(results: list[tuple[asyncio.Future[Any], Any, BaseException | None]]) -> None:
    for future, value, error in results:
        if future.done():  # the caller gave up (cancelled); the data is stored regardless
            continue
        if error is None:
            future.set_result(value)
        else:
            future.set_exception(error)


class SqliteStore(StoreLifecycle):
    """:class:`gateway.store.base.Store` on a SQLite file."""

    def __init__(
        self,
        path: Path,
        *,
        synchronous: str = "full",
        batch_max: int = 256,
        clock_ms: Callable[[], int] = lambda: time.time_ns() // 1_000_000,
        on_commit: CommitObserver | None = None,
    ) -> None:
        self.path = path
        self._synchronous = synchronous.upper()
        self._batch_max = batch_max
        self._clock_ms = clock_ms
        self._on_commit = on_commit
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._writer: threading.Thread | None = None
        self._checkpointer: threading.Thread | None = None
        self._stop = threading.Event()
        self._reader: ThreadPoolExecutor | None = None
        self._read_conn: sqlite3.Connection | None = None

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute(f"PRAGMA synchronous = {self._synchronous}")
        conn.execute("PRAGMA busy_timeout = 10000")
        conn.execute("PRAGMA wal_autocheckpoint = 0")
        return conn

    def _checkpoint_loop(self) -> None:
        conn = self._connect()
        try:
            while not self._stop.wait(CHECKPOINT_SECONDS):
                with contextlib.suppress(sqlite3.Error):  # busy now: the next round will do
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").close()
            with contextlib.suppress(sqlite3.Error):
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").close()
        finally:
            conn.close()

    async def open(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = await asyncio.to_thread(self._connect)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"cannot open the SQLite store {self.path}: {exc}") from None
        self._writer = threading.Thread(
            target=self._write_loop, args=(conn,), name="veritee-store-writer", daemon=True
        )
        self._writer.start()
        self._stop.clear()
        self._checkpointer = threading.Thread(
            target=self._checkpoint_loop, name="veritee-store-checkpoint", daemon=True
        )
        self._checkpointer.start()
        self._reader = ThreadPoolExecutor(1, thread_name_prefix="veritee-store-reader")
        await self._write(_create_schema)

    async def close(self) -> None:
        if self._writer is not None:
            self._queue.put(None)
            await asyncio.to_thread(self._writer.join)
            self._writer = None
        if self._checkpointer is not None:
            self._stop.set()
            await asyncio.to_thread(self._checkpointer.join)
            self._checkpointer = None
        if self._reader is not None:
            if self._read_conn is not None:
                await self._read(lambda c: c.close())
            self._reader.shutdown(wait=True)
            self._reader = None

    # -- the writer thread ---------------------------------------------------------------

    def _write_loop(self, conn: sqlite3.Connection) -> None:
        try:
            while True:
                job = self._queue.get()
                if job is None:
                    return
                batch = [job]
                stop = False
                while len(batch) < self._batch_max:
                    try:
                        more = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if more is None:
                        stop = True
                        break
                    batch.append(more)
                self._commit(conn, batch)
                if stop:
                    return
        finally:
            conn.close()

    def _commit(self, conn: sqlite3.Connection, batch: list[_Job]) -> None:
        started = time.perf_counter()
        results: list[tuple[asyncio.Future[Any], Any, BaseException | None]] = []
        try:
            conn.execute("BEGIN IMMEDIATE")
            for job in batch:
                conn.execute("SAVEPOINT job")
                try:
                    value = job.run(conn)
                except Exception as exc:  # noqa: BLE001 - one job's failure is its caller's
                    conn.execute("ROLLBACK TO job")
                    results.append((job.future, None, _store_error(exc)))
                else:
                    results.append((job.future, value, None))
                conn.execute("RELEASE job")
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            error = StoreError(f"SQLite commit failed: {exc}")
            results = [(job.future, None, error) for job in batch]
        if self._on_commit is not None:
            self._on_commit(len(batch), time.perf_counter() - started)
        by_loop: dict[asyncio.AbstractEventLoop, list[Any]] = {}
        for job, result in zip(batch, results, strict=True):
            by_loop.setdefault(job.loop, []).append(result)
        for loop, settled in by_loop.items():
            with contextlib.suppress(RuntimeError):  # that loop has closed
                loop.call_soon_threadsafe(_settle, settled)

    async def _write(self, run: Callable[[sqlite3.Connection], T]) -> T:
        if self._writer is None:
            raise StoreError("the store is not open")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._queue.put(_Job(run, future, loop))
        return await future

    async def _read(self, run: Callable[[sqlite3.Connection], T]) -> T:
        if self._reader is None:
            raise StoreError("the store is not open")

        def call() -> T:
            if self._read_conn is None:
                self._read_conn = self._connect()
            try:
                return run(self._read_conn)
            except sqlite3.Error as exc:
                raise StoreError(f"SQLite read failed: {exc}") from None

        return await asyncio.get_running_loop().run_in_executor(self._reader, call)

    # -- receipts ------------------------------------------------------------------------

    async def put_receipts(self, receipts: Sequence[StoredReceipt]) -> None:
        rows = [receipt_row(r) for r in receipts]
        await self._write(lambda c: _run_many(c, SQLITE.upsert_receipt(), rows))

    async def get_receipt(self, receipt_id: str) -> StoredReceipt | None:
        sql = SQLITE.select_receipt()
        rows = await self._read(lambda c: c.execute(sql, (receipt_id,)).fetchall())
        return receipt_from_row(rows[0]) if rows else None

    async def query_receipts(self, query: ReceiptQuery) -> list[StoredReceipt]:
        sql, params = SQLITE.select_receipts(query)
        rows = await self._read(lambda c: c.execute(sql, params).fetchall())
        return [receipt_from_row(r) for r in rows]

    async def last_seq(self, signer: str) -> int:
        sql = "SELECT MAX(seq) FROM receipts WHERE signer = ?"
        row = await self._read(lambda c: c.execute(sql, (signer,)).fetchone())
        return int(row[0] or 0)

    async def existing(self, ids: Sequence[str]) -> set[str]:
        def query(conn: sqlite3.Connection) -> set[str]:
            found: set[str] = set()
            for start in range(0, len(ids), 500):  # SQLite allows 999 parameters by default
                part = list(ids[start : start + 500])
                rows = conn.execute(SQLITE.select_existing(len(part)), part).fetchall()
                found.update(r[0] for r in rows)
            return found

        return await self._read(query)

    async def count_seqs(self, signer: str, after_seq: int, up_to: int) -> int:
        sql = SQLITE.count_seqs()
        row = await self._read(lambda c: c.execute(sql, (signer, after_seq, up_to)).fetchone())
        return int(row[0])

    async def sync_cursor(self, signer: str) -> int:
        sql = "SELECT seq FROM sync_cursors WHERE signer = ?"
        row = await self._read(lambda c: c.execute(sql, (signer,)).fetchone())
        return int(row[0]) if row else 0

    async def set_sync_cursor(self, signer: str, seq: int) -> None:
        await self._write(lambda c: _run_many(c, SQLITE.advance_cursor(), [(signer, seq)]))

    async def receipts_by_seq(
        self, signer: str, first_seq: int, last_seq: int
    ) -> list[StoredReceipt]:
        sql = SQLITE.select_receipts_by_seq()
        rows = await self._read(lambda c: c.execute(sql, (signer, first_seq, last_seq)).fetchall())
        return [receipt_from_row(r) for r in rows]

    # -- checkpoints ---------------------------------------------------------------------

    async def put_checkpoints(self, enclave: str, checkpoints: Sequence[SignedCheckpoint]) -> None:
        now = self._clock_ms()
        rows = [checkpoint_row(enclave, c, now) for c in checkpoints]
        await self._write(lambda c: _run_many(c, SQLITE.insert_checkpoint(), rows))

    async def checkpoints(
        self, signer: str, *, after_seq: int = 0, limit: int = 1000
    ) -> list[StoredCheckpoint]:
        sql = SQLITE.select_checkpoints()
        rows = await self._read(lambda c: c.execute(sql, (signer, after_seq, limit)).fetchall())
        return [checkpoint_from_row(r) for r in rows]

    async def latest_checkpoint(self, signer: str) -> StoredCheckpoint | None:
        sql = SQLITE.select_latest_checkpoint()
        rows = await self._read(lambda c: c.execute(sql, (signer,)).fetchall())
        return checkpoint_from_row(rows[0]) if rows else None

    async def checkpoint_covering(self, signer: str, seq: int) -> StoredCheckpoint | None:
        sql = SQLITE.select_checkpoint_covering()
        row = await self._read(lambda c: c.execute(sql, (signer, seq)).fetchone())
        return covering(row, seq)

    async def checkpoint_signers(self) -> list[str]:
        sql = "SELECT DISTINCT signer FROM checkpoints ORDER BY signer"
        rows = await self._read(lambda c: c.execute(sql).fetchall())
        return [r[0] for r in rows]

    # -- anchoring -----------------------------------------------------------------------

    async def put_anchor_record(self, record: AnchorRecord) -> None:
        row = anchor_row(record)
        await self._write(lambda c: _run_many(c, SQLITE.upsert_anchor(), [row]))

    async def anchor_record(
        self, contract: str, signer: str, first_seq: int
    ) -> AnchorRecord | None:
        sql = SQLITE.select_anchor()
        row = await self._read(lambda c: c.execute(sql, (contract, signer, first_seq)).fetchone())
        return anchor_from_row(row) if row else None

    async def anchor_records(
        self, contract: str, signer: str, *, after_seq: int = 0, limit: int = 1000
    ) -> list[AnchorRecord]:
        sql = SQLITE.select_anchors()
        params = (contract, signer, after_seq, limit)
        rows = await self._read(lambda c: c.execute(sql, params).fetchall())
        return [anchor_from_row(r) for r in rows]

    async def anchor_summary(self, contract: str) -> list[AnchorSummary]:
        sql = SQLITE.anchor_summary()
        rows = await self._read(lambda c: c.execute(sql, (contract,)).fetchall())
        return summaries_from_rows(rows)

    async def put_attestation(self, record: AttestationRecord) -> None:
        row = attestation_row(record)
        await self._write(lambda c: _run_many(c, SQLITE.insert_attestation(), [row]))

    async def attestation(self, signer: str) -> AttestationRecord | None:
        sql = SQLITE.select_attestations(one=True)
        row = await self._read(lambda c: c.execute(sql, (signer,)).fetchone())
        return attestation_from_row(row) if row else None

    async def attestations(self) -> list[AttestationRecord]:
        sql = SQLITE.select_attestations(one=False)
        rows = await self._read(lambda c: c.execute(sql).fetchall())
        return [attestation_from_row(r) for r in rows]

    # -- tenants -------------------------------------------------------------------------

    async def add_key(self, record: ApiKeyRecord) -> None:
        row = key_row(record)
        await self._write(lambda c: _run_many(c, SQLITE.insert_key(), [row]))

    async def find_key(self, key_sha256: str) -> ApiKeyRecord | None:
        sql = SQLITE.select_key()
        rows = await self._read(lambda c: c.execute(sql, (key_sha256,)).fetchall())
        return key_from_row(rows[0]) if rows else None

    async def list_keys(self) -> list[ApiKeyRecord]:
        sql = SQLITE.select_keys()
        rows = await self._read(lambda c: c.execute(sql).fetchall())
        return [key_from_row(r) for r in rows]

    async def revoke_key(self, key_id: str, at_ms: int) -> bool:
        sql = "UPDATE api_keys SET revoked_ms = ? WHERE key_id = ? AND revoked_ms IS NULL"

        def revoke(conn: sqlite3.Connection) -> int:
            cursor = conn.execute(sql, (at_ms, key_id))
            count = cursor.rowcount
            cursor.close()
            return count

        return bool(await self._write(revoke))


def _run_many(conn: sqlite3.Connection, sql: str, rows: Sequence[Sequence[Any]]) -> None:
    """Run ``sql`` for every row. Jobs return plain values, never cursors: a cursor
    finalised on the event loop's thread while the writer uses the connection is misuse."""
    conn.executemany(sql, rows).close()


def _create_schema(conn: sqlite3.Connection) -> None:
    for statement in SQLITE.schema():
        conn.execute(statement).close()


def _store_error(exc: Exception) -> Exception:
    if isinstance(exc, sqlite3.IntegrityError):
        return StoreError(f"already stored: {exc}")
    if isinstance(exc, sqlite3.Error):
        return StoreError(f"SQLite write failed: {exc}")
    return exc
