"""The SQL both database backends share: schema, statements, rows, the receipt query.

SQLite and PostgreSQL differ only in column types and the placeholder (``?``/``%s``);
both are filled in by :class:`Dialect`. The schema is documented in ``docs/gateway.md``.
Every statement is built here from constant column names; values always travel as
parameters, never in the SQL text (hence the file-wide S608 waiver).
"""
# ruff: noqa: S608

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from gateway.store.base import (
    ApiKeyRecord,
    ReceiptQuery,
    StoredCheckpoint,
    StoredReceipt,
    Verdict,
)
from transcript.checkpoint import SignedCheckpoint

RECEIPT_COLUMNS = (
    "id", "raw", "verdict", "received_ms", "time_ms", "source", "problem", "signer", "seq",
    "keyset", "model", "status", "stream", "total_tokens", "enclave", "tenant", "key_id",
    "request_id",
)  # fmt: skip
KEY_COLUMNS = (
    "key_id", "tenant", "key_sha256", "created_ms", "models", "rpm", "tpm", "admin", "revoked_ms",
)  # fmt: skip
CHECKPOINT_COLUMNS = ("signer", "first_seq", "last_seq", "hash", "body", "enclave", "received_ms")


@dataclass(frozen=True)
class Dialect:
    ph: str  # the parameter placeholder
    blob: str  # the binary column type
    bigint: str
    boolean: str

    def placeholders(self, n: int) -> str:
        return ", ".join([self.ph] * n)

    def schema(self) -> list[str]:
        b, i, flag = self.blob, self.bigint, self.boolean
        return [
            f"""CREATE TABLE IF NOT EXISTS receipts (
                id TEXT PRIMARY KEY, raw {b} NOT NULL, verdict TEXT NOT NULL,
                received_ms {i} NOT NULL, time_ms {i} NOT NULL, source TEXT NOT NULL,
                problem TEXT, signer TEXT, seq {i}, keyset TEXT, model TEXT, status TEXT,
                stream {flag}, total_tokens {i}, enclave TEXT, tenant TEXT, key_id TEXT,
                request_id TEXT)""",
            "CREATE INDEX IF NOT EXISTS receipts_time ON receipts (time_ms, id)",
            "CREATE INDEX IF NOT EXISTS receipts_tenant ON receipts (tenant, time_ms, id)",
            "CREATE INDEX IF NOT EXISTS receipts_model ON receipts (model, time_ms, id)",
            "CREATE INDEX IF NOT EXISTS receipts_signer ON receipts (signer, seq)",
            f"""CREATE TABLE IF NOT EXISTS checkpoints (
                signer TEXT NOT NULL, first_seq {i} NOT NULL, last_seq {i} NOT NULL,
                hash TEXT NOT NULL, body TEXT NOT NULL, enclave TEXT NOT NULL,
                received_ms {i} NOT NULL, PRIMARY KEY (signer, first_seq))""",
            f"""CREATE TABLE IF NOT EXISTS sync_cursors (
                signer TEXT PRIMARY KEY, seq {i} NOT NULL)""",
            f"""CREATE TABLE IF NOT EXISTS api_keys (
                key_id TEXT PRIMARY KEY, tenant TEXT NOT NULL, key_sha256 TEXT NOT NULL UNIQUE,
                created_ms {i} NOT NULL, models TEXT NOT NULL, rpm {i}, tpm {i},
                admin {flag} NOT NULL, revoked_ms {i})""",
        ]

    def upsert_receipt(self) -> str:
        """Insert, or fill in what an earlier copy of the same receipt did not know."""
        cols = ", ".join(RECEIPT_COLUMNS)
        fill = ", ".join(
            f"{c} = COALESCE(receipts.{c}, excluded.{c})"
            for c in ("enclave", "tenant", "key_id", "request_id")
        )
        return (
            f"INSERT INTO receipts ({cols}) VALUES ({self.placeholders(len(RECEIPT_COLUMNS))}) "
            f"ON CONFLICT (id) DO UPDATE SET {fill}, "
            "problem = CASE WHEN receipts.verdict = 'verified' THEN excluded.problem "
            "ELSE receipts.problem END, "
            "verdict = CASE WHEN receipts.verdict = 'verified' THEN excluded.verdict "
            "ELSE receipts.verdict END"
        )

    def insert_checkpoint(self) -> str:
        cols = ", ".join(CHECKPOINT_COLUMNS)
        return (
            f"INSERT INTO checkpoints ({cols}) VALUES "
            f"({self.placeholders(len(CHECKPOINT_COLUMNS))}) "
            "ON CONFLICT (signer, first_seq) DO NOTHING"
        )

    def advance_cursor(self) -> str:
        ph = self.ph
        return (
            f"INSERT INTO sync_cursors (signer, seq) VALUES ({ph}, {ph}) ON CONFLICT (signer) "
            "DO UPDATE SET seq = CASE WHEN excluded.seq > sync_cursors.seq THEN excluded.seq "
            "ELSE sync_cursors.seq END"
        )

    def insert_key(self) -> str:
        cols = ", ".join(KEY_COLUMNS)
        return f"INSERT INTO api_keys ({cols}) VALUES ({self.placeholders(len(KEY_COLUMNS))})"

    def select_checkpoints(self) -> str:
        ph = self.ph
        return (
            f"SELECT {', '.join(CHECKPOINT_COLUMNS)} FROM checkpoints "
            f"WHERE signer = {ph} AND first_seq > {ph} ORDER BY first_seq LIMIT {ph}"
        )

    def select_latest_checkpoint(self) -> str:
        return (
            f"SELECT {', '.join(CHECKPOINT_COLUMNS)} FROM checkpoints "
            f"WHERE signer = {self.ph} ORDER BY first_seq DESC LIMIT 1"
        )

    def select_key(self) -> str:
        return f"SELECT {', '.join(KEY_COLUMNS)} FROM api_keys WHERE key_sha256 = {self.ph}"

    def select_keys(self) -> str:
        return f"SELECT {', '.join(KEY_COLUMNS)} FROM api_keys ORDER BY tenant, created_ms"

    def select_existing(self, count: int) -> str:
        return f"SELECT id FROM receipts WHERE id IN ({self.placeholders(count)})"

    def count_seqs(self) -> str:
        ph = self.ph
        return (
            "SELECT COUNT(DISTINCT seq) FROM receipts "
            f"WHERE signer = {ph} AND seq > {ph} AND seq <= {ph}"
        )

    def select_receipt(self) -> str:
        return f"SELECT {', '.join(RECEIPT_COLUMNS)} FROM receipts WHERE id = {self.ph}"

    def select_receipts(self, query: ReceiptQuery) -> tuple[str, list[Any]]:
        ph = self.ph
        where: list[str] = []
        params: list[Any] = []
        for column in ("tenant", "model", "signer", "verdict"):
            value = getattr(query, column)
            if value is not None:
                where.append(f"{column} = {ph}")
                params.append(value)
        if query.since_ms is not None:
            where.append(f"time_ms >= {ph}")
            params.append(query.since_ms)
        if query.until_ms is not None:
            where.append(f"time_ms < {ph}")
            params.append(query.until_ms)
        if query.after is not None:
            where.append(f"(time_ms > {ph} OR (time_ms = {ph} AND id > {ph}))")
            params.extend([query.after[0], query.after[0], query.after[1]])
        sql = f"SELECT {', '.join(RECEIPT_COLUMNS)} FROM receipts"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += f" ORDER BY time_ms, id LIMIT {ph}"
        params.append(query.limit)
        return sql, params


SQLITE = Dialect(ph="?", blob="BLOB", bigint="INTEGER", boolean="INTEGER")
POSTGRES = Dialect(ph="%s", blob="BYTEA", bigint="BIGINT", boolean="BOOLEAN")


def receipt_row(r: StoredReceipt) -> tuple[Any, ...]:
    return (
        r.id, r.raw, r.verdict, r.received_ms, r.time_ms, r.source, r.problem, r.signer, r.seq,
        r.keyset, r.model, r.status, r.stream, r.total_tokens, r.enclave, r.tenant, r.key_id,
        r.request_id,
    )  # fmt: skip


def receipt_from_row(row: Sequence[Any]) -> StoredReceipt:
    (rid, raw, verdict, received, time_ms, source, problem, signer, seq, keyset, model, status,
     stream, tokens, enclave, tenant, key_id, request_id) = row  # fmt: skip
    verdict_value: Verdict = verdict
    return StoredReceipt(
        id=rid,
        raw=bytes(raw),
        verdict=verdict_value,
        received_ms=received,
        time_ms=time_ms,
        source=source,
        problem=problem,
        signer=signer,
        seq=seq,
        keyset=keyset,
        model=model,
        status=status,
        stream=None if stream is None else bool(stream),
        total_tokens=tokens,
        enclave=enclave,
        tenant=tenant,
        key_id=key_id,
        request_id=request_id,
    )


def key_row(k: ApiKeyRecord) -> tuple[Any, ...]:
    models = orjson.dumps(list(k.models)).decode()
    return (k.key_id, k.tenant, k.key_sha256, k.created_ms, models, k.rpm, k.tpm, k.admin,
            k.revoked_ms)  # fmt: skip


def key_from_row(row: Sequence[Any]) -> ApiKeyRecord:
    key_id, tenant, sha, created, models, rpm, tpm, admin, revoked = row
    return ApiKeyRecord(
        key_id=key_id,
        tenant=tenant,
        key_sha256=sha,
        created_ms=created,
        models=tuple(orjson.loads(models)),
        rpm=rpm,
        tpm=tpm,
        admin=bool(admin),
        revoked_ms=revoked,
    )


def checkpoint_row(enclave: str, c: SignedCheckpoint, received_ms: int) -> tuple[Any, ...]:
    cp = c.checkpoint
    body = orjson.dumps(c.to_dict()).decode()
    return (cp.signer, cp.first_seq, cp.last_seq, c.hash.hex(), body, enclave, received_ms)


def checkpoint_from_row(row: Sequence[Any]) -> StoredCheckpoint:
    _signer, _first, _last, _hash, body, enclave, received = row
    return StoredCheckpoint(SignedCheckpoint.from_dict(orjson.loads(body)), enclave, received)
