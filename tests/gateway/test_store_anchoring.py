"""The anchoring side of the three stores (SQLite, PostgreSQL, memory): the same behaviour."""

from __future__ import annotations

from collections.abc import Callable

from gateway.store.base import AnchorRecord, AttestationRecord, Store
from tests.gateway.test_store import make_store, receipt, run
from tests.helpers.transparency import PaperEnclave

__all__ = ["make_store"]
CONTRACT = "0x" + "cd" * 20
ENCLAVE = PaperEnclave("store").run(2, 3)


def record(first: int, last: int, state: str, **fields: object) -> AnchorRecord:
    base = {
        "contract": CONTRACT, "signer": ENCLAVE.address, "first_seq": first, "last_seq": last,
        "checkpoint_hash": f"{first:064x}", "state": state, "updated_ms": first,
    }  # fmt: skip
    base.update(fields)
    return AnchorRecord(**base)  # type: ignore[arg-type]


def test_anchor_records_upsert_and_a_confirmed_one_is_final(
    make_store: Callable[[], Store],
) -> None:
    async def job(store: Store) -> None:
        await store.put_checkpoints("store", ENCLAVE.checkpoints)
        await store.put_anchor_record(record(1, 2, "submitted", tx_hash="aa" * 32, nonce=7))
        found = await store.anchor_record(CONTRACT, ENCLAVE.address, 1)
        assert found is not None and (found.state, found.nonce) == ("submitted", 7)
        confirmed = record(1, 2, "confirmed", tx_hash="aa" * 32, block_number=9, index=0,
                           gas_used=97_000, chain_id=31337)  # fmt: skip
        await store.put_anchor_record(confirmed)
        await store.put_anchor_record(record(1, 2, "waiting", error="late news"))  # ignored
        assert await store.anchor_record(CONTRACT, ENCLAVE.address, 1) == confirmed
        await store.put_anchor_record(record(3, 5, "waiting", error="not registered"))
        later = await store.anchor_records(CONTRACT, ENCLAVE.address, after_seq=1)
        assert [(r.first_seq, r.state, r.error) for r in later] == [
            (3, "waiting", "not registered")
        ]
        assert await store.anchor_records("0x" + "00" * 20, ENCLAVE.address) == []
        (summary,) = await store.anchor_summary(CONTRACT)
        assert summary.signer == ENCLAVE.address
        assert dict(summary.counts) == {"confirmed": 1, "waiting": 1}
        assert (summary.confirmed_to_seq, summary.checkpointed_to_seq) == (2, 5)
        (elsewhere,) = await store.anchor_summary("0x" + "00" * 20)
        assert dict(elsewhere.counts) == {"pending": 2} and elsewhere.confirmed_to_seq == 0

    run(make_store, job)


def test_attestations_keep_the_first_document_per_signer(
    make_store: Callable[[], Store],
) -> None:
    first = ENCLAVE.attestation()
    second = AttestationRecord(**{**vars_of(first), "enclave": "renamed", "verified_at_ms": 1})

    async def job(store: Store) -> None:
        assert await store.attestation(first.signer) is None
        await store.put_attestation(first)
        await store.put_attestation(second)
        assert await store.attestation(first.signer) == first
        assert await store.attestations() == [first]

    run(make_store, job)


def test_receipts_by_seq_and_the_checkpoint_covering_a_seq(
    make_store: Callable[[], Store],
) -> None:
    async def job(store: Store) -> None:
        signer = receipt(1).signer
        assert signer is not None
        await store.put_receipts([receipt(i) for i in range(1, 8)])
        await store.put_receipts([receipt(99, seq=4)])  # a second receipt for seq 4
        found = await store.receipts_by_seq(signer, 3, 5)
        assert [r.seq for r in found] == [3, 4, 4, 5]
        await store.put_checkpoints("store", ENCLAVE.checkpoints)
        covering = await store.checkpoint_covering(ENCLAVE.address, 4)
        assert covering is not None and covering.checkpoint == ENCLAVE.checkpoints[1]
        assert await store.checkpoint_covering(ENCLAVE.address, 6) is None
        assert await store.checkpoint_covering(signer, 1) is None

    run(make_store, job)


def vars_of(r: AttestationRecord) -> dict[str, object]:
    return {name: getattr(r, name) for name in r.__dataclass_fields__}
