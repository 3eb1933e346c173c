"""The three stores (SQLite, PostgreSQL, memory) behave the same; the databases are real."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from gateway.errors import StoreError
from gateway.store.base import ApiKeyRecord, ReceiptQuery, Store, StoredReceipt, cursor_of
from gateway.store.memory import MemoryStore
from gateway.store.postgres import PostgresStore
from gateway.store.sqlite import SqliteStore
from transcript.checkpoint import build_checkpoint
from transcript.keys import SigningKey

SIGNER = "0x" + "ab" * 20


def receipt(i: int, **fields: Any) -> StoredReceipt:
    base: dict[str, Any] = {
        "id": hashlib.sha256(f"r{i}".encode()).hexdigest(),
        "raw": b'{"body":{},"sig":"' + str(i).encode() + b'"}',
        "verdict": "verified",
        "received_ms": 1_000 + i,
        "time_ms": 1_000 + i,
        "signer": SIGNER,
        "seq": i,
        "model": "gpt-4o",
        "status": "complete",
        "stream": False,
        "total_tokens": 7,
        "enclave": "a",
    }
    base.update(fields)
    return StoredReceipt(**base)


@pytest.fixture(params=["sqlite", "postgres", "memory"])
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], Store]:
    if request.param == "sqlite":
        return lambda: SqliteStore(tmp_path / "gateway.db")
    if request.param == "postgres":
        dsn = request.getfixturevalue("pg_dsn")
        return lambda: PostgresStore(dsn)
    memory = MemoryStore()
    return lambda: memory


def run(make: Callable[[], Store], job: Callable[[Store], Awaitable[Any]]) -> Any:
    async def main() -> Any:
        async with make() as store:
            return await job(store)

    return asyncio.run(main())


def test_receipts_round_trip_and_queries(make_store: Callable[[], Store]) -> None:
    async def job(store: Store) -> None:
        await store.put_receipts(
            [
                receipt(i, tenant="acme" if i % 2 else "zeta", model="m1" if i < 5 else "m2")
                for i in range(1, 11)
            ]
        )
        one = await store.get_receipt(receipt(3).id)
        assert one is not None
        assert one.raw == receipt(3).raw and one.tenant == "acme" and one.seq == 3
        assert one.stream is False and one.verified
        assert await store.get_receipt("0" * 64) is None
        acme = await store.query_receipts(ReceiptQuery(tenant="acme"))
        assert [r.seq for r in acme] == [1, 3, 5, 7, 9]
        m2 = await store.query_receipts(ReceiptQuery(model="m2", tenant="zeta"))
        assert [r.seq for r in m2] == [6, 8, 10]
        window = await store.query_receipts(ReceiptQuery(since_ms=1_003, until_ms=1_006))
        assert [r.seq for r in window] == [3, 4, 5]
        page1 = await store.query_receipts(ReceiptQuery(limit=4))
        page2 = await store.query_receipts(
            ReceiptQuery(limit=4, after=(page1[-1].time_ms, page1[-1].id))
        )
        assert [r.seq for r in page1 + page2] == list(range(1, 9))
        assert cursor_of(page1[-1]) == f"{page1[-1].time_ms}:{page1[-1].id}"
        assert await store.last_seq(SIGNER) == 10
        assert await store.last_seq("0x" + "00" * 20) == 0
        assert await store.count_seqs(SIGNER, 2, 6) == 4
        assert await store.count_seqs(SIGNER, 8, 100) == 2
        assert await store.existing([receipt(2).id, "f" * 64, receipt(9).id]) == {
            receipt(2).id,
            receipt(9).id,
        }

    run(make_store, job)


def test_a_later_copy_fills_in_and_a_flag_is_never_washed_out(
    make_store: Callable[[], Store],
) -> None:
    async def job(store: Store) -> None:
        await store.put_receipts([receipt(1, source="log", enclave=None)])
        await store.put_receipts([receipt(1, tenant="acme", key_id="key_1", request_id="req_1")])
        merged = await store.get_receipt(receipt(1).id)
        assert merged is not None
        assert (merged.tenant, merged.key_id, merged.request_id) == ("acme", "key_1", "req_1")
        assert merged.source == "log" and merged.enclave == "a"

        await store.put_receipts([receipt(2)])
        await store.put_receipts([receipt(2, verdict="response_mismatch", problem="hash")])
        await store.put_receipts([receipt(2)])
        flagged = await store.get_receipt(receipt(2).id)
        assert flagged is not None
        assert (flagged.verdict, flagged.problem) == ("response_mismatch", "hash")
        assert [r.seq for r in await store.query_receipts(ReceiptQuery(verdict="verified"))] == [1]

    run(make_store, job)


def test_concurrent_writes_all_land(make_store: Callable[[], Store]) -> None:
    async def job(store: Store) -> int:
        await asyncio.gather(*(store.put_receipts([receipt(i)]) for i in range(1, 201)))
        return len(await store.query_receipts(ReceiptQuery(limit=1000)))

    assert run(make_store, job) == 200


def test_sqlite_batches_concurrent_writes_into_few_commits(tmp_path: Path) -> None:
    batches: list[int] = []

    async def main() -> None:
        store = SqliteStore(tmp_path / "g.db", on_commit=lambda n, _s: batches.append(n))
        await store.open()
        await asyncio.gather(*(store.put_receipts([receipt(i)]) for i in range(1, 301)))
        await store.close()

    asyncio.run(main())
    assert sum(batches) == 301  # 300 receipts and the schema
    assert len(batches) < 100


def test_sqlite_survives_a_restart(tmp_path: Path) -> None:
    async def write() -> None:
        store = SqliteStore(tmp_path / "g.db")
        await store.open()
        await store.put_receipts([receipt(1)])
        await store.close()

    async def read() -> StoredReceipt | None:
        async with SqliteStore(tmp_path / "g.db") as store:
            return await store.get_receipt(receipt(1).id)

    asyncio.run(write())
    again = asyncio.run(read())
    assert again is not None and again.raw == receipt(1).raw


def test_sync_cursor_only_moves_forward(make_store: Callable[[], Store]) -> None:
    async def job(store: Store) -> list[int]:
        seen = [await store.sync_cursor(SIGNER)]
        await store.set_sync_cursor(SIGNER, 40)
        seen.append(await store.sync_cursor(SIGNER))
        await store.set_sync_cursor(SIGNER, 12)
        seen.append(await store.sync_cursor(SIGNER))
        return seen

    assert run(make_store, job) == [0, 40, 40]


def test_checkpoints(make_store: Callable[[], Store]) -> None:
    key = SigningKey.from_secret(b"\x01" * 32)
    ids = [hashlib.sha256(bytes([i])).digest() for i in range(6)]
    first, _ = build_checkpoint(
        key, receipt_ids=ids[:4], first_seq=1, prev=b"\0" * 32, keyset=b"\x02" * 32, time_ms=5
    )
    second, _ = build_checkpoint(
        key, receipt_ids=ids[4:], first_seq=5, prev=first.hash, keyset=b"\x02" * 32, time_ms=6
    )

    async def job(store: Store) -> None:
        assert await store.latest_checkpoint(key.address) is None
        await store.put_checkpoints("a", [first])
        await store.put_checkpoints("b", [first, second])  # the first is already stored
        every = await store.checkpoints(key.address)
        assert [c.checkpoint for c in every] == [first, second]
        assert [c.enclave for c in every] == ["a", "b"]
        later = await store.checkpoints(key.address, after_seq=1)
        assert [c.checkpoint for c in later] == [second]
        latest = await store.latest_checkpoint(key.address)
        assert latest is not None and latest.checkpoint == second and latest.signer == key.address
        assert await store.checkpoint_signers() == [key.address]

    run(make_store, job)


def test_api_keys(make_store: Callable[[], Store]) -> None:
    record = ApiKeyRecord(
        key_id="key_1", tenant="acme", key_sha256="1" * 64, created_ms=5, models=("gpt-*", "x"),
        rpm=10, tpm=None, admin=True,
    )  # fmt: skip

    async def job(store: Store) -> None:
        await store.add_key(record)
        assert await store.find_key("1" * 64) == record
        assert await store.find_key("2" * 64) is None
        with pytest.raises(StoreError):
            await store.add_key(ApiKeyRecord("key_2", "zeta", "1" * 64, 6))
        await store.add_key(ApiKeyRecord("key_3", "beta", "3" * 64, 7))
        assert [k.key_id for k in await store.list_keys()] == ["key_1", "key_3"]
        assert await store.revoke_key("key_1", 99)
        assert not await store.revoke_key("key_1", 100)
        revoked = await store.find_key("1" * 64)
        assert revoked is not None and revoked.revoked_ms == 99 and not revoked.active

    run(make_store, job)


def test_async_with_opens_the_store_and_closes_it_even_after_an_error(tmp_path: Path) -> None:
    async def main() -> None:
        store = SqliteStore(tmp_path / "g.db")
        with pytest.raises(RuntimeError, match="inside"):
            async with store as opened:
                assert opened is store
                await store.put_receipts([receipt(1)])
                raise RuntimeError("inside")
        with pytest.raises(StoreError, match="not open"):
            await store.put_receipts([receipt(2)])
        async with SqliteStore(tmp_path / "g.db") as again:
            assert await again.get_receipt(receipt(1).id) is not None

    asyncio.run(main())
