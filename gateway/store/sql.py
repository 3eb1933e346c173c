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
    AnchorRecord,
    AnchorState,
    AnchorSummary,
    ApiKeyRecord,
    AttestationRecord,
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
ANCHOR_COLUMNS = (
    "contract", "signer", "first_seq", "last_seq", "checkpoint_hash", "state", "updated_ms",
    "tx_hash", "nonce", "block_number", "checkpoint_index", "gas_used", "chain_id", "error",
)  # fmt: skip
ATTESTATION_COLUMNS = (
    "signer", "enclave", "document", "platform", "keyset_sha256", "verified_at_ms", "measurements",
)  # fmt: skip


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
            f"""CREATE TABLE IF NOT EXISTS anchorings (
                contract TEXT NOT NULL, signer TEXT NOT NULL, first_seq {i} NOT NULL,
                last_seq {i} NOT NULL, checkpoint_hash TEXT NOT NULL, state TEXT NOT NULL,
                updated_ms {i} NOT NULL, tx_hash TEXT, nonce {i}, block_number {i},
                checkpoint_index {i}, gas_used {i}, chain_id {i}, error TEXT,
                PRIMARY KEY (contract, signer, first_seq))""",
            f"""CREATE TABLE IF NOT EXISTS attestations (
                signer TEXT PRIMARY KEY, enclave TEXT NOT NULL, document {b} NOT NULL,
                platform TEXT NOT NULL, keyset_sha256 TEXT NOT NULL,
                verified_at_ms {i} NOT NULL, measurements TEXT NOT NULL)""",
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

    def upsert_anchor(self) -> str:
        """Insert or replace a record; a confirmed one is replaced only by a confirmed one."""
        cols = ", ".join(ANCHOR_COLUMNS)
        update = ", ".join(f"{c} = excluded.{c}" for c in ANCHOR_COLUMNS[3:])
        return (
            f"INSERT INTO anchorings ({cols}) VALUES ({self.placeholders(len(ANCHOR_COLUMNS))}) "
            f"ON CONFLICT (contract, signer, first_seq) DO UPDATE SET {update} "
            "WHERE anchorings.state <> 'confirmed' OR excluded.state = 'confirmed'"
        )

    def select_anchor(self) -> str:
        ph = self.ph
        return (
            f"SELECT {', '.join(ANCHOR_COLUMNS)} FROM anchorings "
            f"WHERE contract = {ph} AND signer = {ph} AND first_seq = {ph}"
        )

    def select_anchors(self) -> str:
        ph = self.ph
        return (
            f"SELECT {', '.join(ANCHOR_COLUMNS)} FROM anchorings WHERE contract = {ph} "
            f"AND signer = {ph} AND first_seq > {ph} ORDER BY first_seq LIMIT {ph}"
        )

    def anchor_summary(self) -> str:
        """Per signer and state: checkpoints, and the highest last_seq (pending: no record)."""
        return (
            "SELECT c.signer, COALESCE(a.state, 'pending'), COUNT(*), MAX(c.last_seq) "
            "FROM checkpoints c LEFT JOIN anchorings a ON a.contract = "
            f"{self.ph} AND a.signer = c.signer AND a.first_seq = c.first_seq "
            "GROUP BY c.signer, COALESCE(a.state, 'pending') ORDER BY c.signer"
        )

    def insert_attestation(self) -> str:
        cols = ", ".join(ATTESTATION_COLUMNS)
        return (
            f"INSERT INTO attestations ({cols}) VALUES "
            f"({self.placeholders(len(ATTESTATION_COLUMNS))}) ON CONFLICT (signer) DO NOTHING"
        )

    def select_attestations(self, *, one: bool) -> str:
        sql = f"SELECT {', '.join(ATTESTATION_COLUMNS)} FROM attestations"
        return sql + (f" WHERE signer = {self.ph}" if one else " ORDER BY verified_at_ms, signer")

    def select_receipts_by_seq(self) -> str:
        ph = self.ph
        return (
            f"SELECT {', '.join(RECEIPT_COLUMNS)} FROM receipts "
            f"WHERE signer = {ph} AND seq >= {ph} AND seq <= {ph} ORDER BY seq, id"
        )

    def select_checkpoint_covering(self) -> str:
        ph = self.ph
        return (
            f"SELECT {', '.join(CHECKPOINT_COLUMNS)} FROM checkpoints "
            f"WHERE signer = {ph} AND first_seq <= {ph} ORDER BY first_seq DESC LIMIT 1"
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


def covering(row: Sequence[Any] | None, seq: int) -> StoredCheckpoint | None:
    """The checkpoint in ``row`` if its range holds ``seq``."""
    if row is None:
        return None
    found = checkpoint_from_row(row)
    return found if found.checkpoint.checkpoint.last_seq >= seq else None


def anchor_row(r: AnchorRecord) -> tuple[Any, ...]:
    return (
        r.contract, r.signer, r.first_seq, r.last_seq, r.checkpoint_hash, r.state, r.updated_ms,
        r.tx_hash, r.nonce, r.block_number, r.index, r.gas_used, r.chain_id, r.error,
    )  # fmt: skip


def anchor_from_row(row: Sequence[Any]) -> AnchorRecord:
    (contract, signer, first, last, cp_hash, state, updated, tx_hash, nonce, block, index, gas,
     chain_id, error) = row  # fmt: skip
    state_value: AnchorState = state
    return AnchorRecord(
        contract=contract, signer=signer, first_seq=first, last_seq=last,
        checkpoint_hash=cp_hash, state=state_value, updated_ms=updated, tx_hash=tx_hash,
        nonce=nonce, block_number=block, index=index, gas_used=gas, chain_id=chain_id,
        error=error,
    )  # fmt: skip


def summaries_from_rows(rows: Sequence[Sequence[Any]]) -> list[AnchorSummary]:
    """Fold ``(signer, state, count, max last_seq)`` rows into one summary per signer."""
    by_signer: dict[str, dict[str, tuple[int, int]]] = {}
    for signer, state, count, last in rows:
        by_signer.setdefault(signer, {})[state] = (int(count), int(last))
    return [summary(signer, states) for signer, states in sorted(by_signer.items())]


def summary(signer: str, states: dict[str, tuple[int, int]]) -> AnchorSummary:
    return AnchorSummary(
        signer=signer,
        counts={state: count for state, (count, _) in sorted(states.items())},
        checkpointed_to_seq=max(last for _, last in states.values()),
        confirmed_to_seq=states.get("confirmed", (0, 0))[1],
    )


def attestation_row(a: AttestationRecord) -> tuple[Any, ...]:
    measurements = orjson.dumps(dict(a.measurements), option=orjson.OPT_SORT_KEYS).decode()
    return (a.signer, a.enclave, a.document, a.platform, a.keyset_sha256, a.verified_at_ms,
            measurements)  # fmt: skip


def attestation_from_row(row: Sequence[Any]) -> AttestationRecord:
    signer, enclave, document, platform, keyset, verified, measurements = row
    return AttestationRecord(
        signer=signer,
        enclave=enclave,
        document=bytes(document),
        platform=platform,
        keyset_sha256=keyset,
        verified_at_ms=verified,
        measurements=orjson.loads(measurements),
    )
