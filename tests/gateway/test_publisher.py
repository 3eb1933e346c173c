"""The publisher against real contracts, on eth-tester and on anvil: order, idempotency,
refusals named and not retried for ever, and what the contract rejects end to end."""

from __future__ import annotations

import hashlib
from pathlib import Path

from web3 import Web3

from gateway.anchoring.chain import AnchorChain
from gateway.anchoring.publisher import Publisher, RoundReport
from gateway.store.base import AnchorRecord
from tests.helpers.chains import ChainEnv
from tests.helpers.flaky_rpc import flaky_proxy
from tests.helpers.transparency import PaperEnclave, anchor_chain, fill, register, sqlite_store
from transcript import SignedCheckpoint, build_checkpoint
from verifier.anchor import (
    AnchorClient,
    Anvil,
    RegistryClient,
    RetryPolicy,
    TransactionSender,
    connect,
    deploy,
    funded_account,
)


def publish(path: Path, env: ChainEnv, *, sender: TransactionSender | None = None) -> RoundReport:
    with sqlite_store(path) as use:
        return use(lambda store: Publisher(store=store, chain=anchor_chain(env, sender)).round())


def records(path: Path, env: ChainEnv, signer: str) -> list[AnchorRecord]:
    with sqlite_store(path) as use:
        return use(lambda store: store.anchor_records(env.deployment.anchor, signer))


def put(path: Path, *enclaves: PaperEnclave) -> None:
    with sqlite_store(path) as use:
        use(lambda store: fill(store, *enclaves))


def put_checkpoint(path: Path, name: str, signed: SignedCheckpoint) -> None:
    with sqlite_store(path) as use:
        use(lambda store: store.put_checkpoints(name, [signed]))


def test_checkpoints_are_anchored_in_order_exactly_once(env: ChainEnv, tmp_path: Path) -> None:
    db = tmp_path / "gateway.db"
    a, b = PaperEnclave("a").run(3, 5, 2, tail=2), PaperEnclave("b").run(4)
    register(env, a, b)
    put(db, a, b)
    sender = TransactionSender(env.w3, funded_account(env.w3))
    report = publish(db, env, sender=sender)
    assert report.signers[a.address].anchored == [1, 4, 9]
    assert report.signers[b.address].anchored == [1]
    anchor = AnchorClient(env.w3, env.deployment.anchor)
    assert anchor.head(a.address).last_seq == 10 and anchor.head(b.address).last_seq == 4
    stored = records(db, env, a.address)
    assert [(r.first_seq, r.state, r.index) for r in stored] == [
        (1, "confirmed", 0), (4, "confirmed", 1), (9, "confirmed", 2),
    ]  # fmt: skip
    assert all(r.tx_hash and r.block_number and r.gas_used for r in stored)
    sent = env.w3.eth.get_transaction_count(sender.address)
    again = publish(db, env, sender=sender)  # nothing new: nothing sent
    assert (
        again.signers[a.address].anchored == [] and again.signers[a.address].state == "up to date"
    )
    assert env.w3.eth.get_transaction_count(sender.address) == sent == 4


def test_a_lost_store_learns_what_is_anchored_and_sends_nothing(
    env: ChainEnv, tmp_path: Path
) -> None:
    a = PaperEnclave().run(2, 2)
    register(env, a)
    put(tmp_path / "first.db", a)
    publish(tmp_path / "first.db", env)
    a.run(3)
    put(tmp_path / "second.db", a)  # a new store: no anchoring records at all
    sender = TransactionSender(env.w3, funded_account(env.w3))
    report = publish(tmp_path / "second.db", env, sender=sender)
    result = report.signers[a.address]
    assert (result.learned, result.anchored) == (2, [5])
    assert env.w3.eth.get_transaction_count(sender.address) == 1
    assert [r.state for r in records(tmp_path / "second.db", env, a.address)] == ["confirmed"] * 3


def test_an_unregistered_signer_waits_and_is_anchored_once_registered(
    env: ChainEnv, tmp_path: Path
) -> None:
    db = tmp_path / "gateway.db"
    forged = PaperEnclave("forged").run(2)
    put(db, forged)
    result = publish(db, env).signers[forged.address]
    assert result.state == "waiting" and result.anchored == []
    assert "EnclaveNotActive" in (result.message or "") and "not registered" in (
        result.message or ""
    )
    (record,) = records(db, env, forged.address)
    assert record.state == "waiting" and record.tx_hash is None
    register(env, forged)
    assert publish(db, env).signers[forged.address].anchored == [1]


def test_a_revoked_measurement_stops_new_checkpoints_for_good(
    env: ChainEnv, tmp_path: Path
) -> None:
    db = tmp_path / "gateway.db"
    a = PaperEnclave().run(2)
    measurement = hashlib.sha256(a.address.encode()).digest()
    register(env, a)
    put(db, a)
    assert publish(db, env).signers[a.address].anchored == [1]
    env.registry.revoke_measurement(measurement)
    a.run(3, 1)
    put(db, a)
    sender = TransactionSender(env.w3, funded_account(env.w3))
    result = publish(db, env, sender=sender).signers[a.address]
    assert result.state == "blocked" and result.rejected == 2
    assert f"measurement 0x{measurement.hex()} was revoked" in (result.message or "")
    assert [r.state for r in records(db, env, a.address)] == ["confirmed", "rejected", "rejected"]
    again = publish(db, env, sender=sender).signers[a.address]  # a restart, a new round
    assert again.state == "blocked" and again.rejected == 0 and again.anchored == []
    assert env.w3.eth.get_transaction_count(sender.address) == 0  # nothing ever sent


def test_a_gap_waits_for_the_missing_checkpoint(env: ChainEnv, tmp_path: Path) -> None:
    db = tmp_path / "gateway.db"
    a = PaperEnclave().run(3, 3, 3)
    register(env, a)
    missing = a.checkpoints[1]
    a.checkpoints.remove(missing)
    put(db, a)
    result = publish(db, env).signers[a.address]
    assert result.anchored == [1] and result.state == "waiting"
    assert "NotContiguous" in (result.message or "")
    assert "seq 4..6 have no checkpoint in the store yet" in (result.message or "")
    put_checkpoint(db, a.name, missing)
    assert publish(db, env).signers[a.address].anchored == [4, 7]


def test_an_overlapping_checkpoint_is_rejected_by_the_contract(
    env: ChainEnv, tmp_path: Path
) -> None:
    db = tmp_path / "gateway.db"
    a = PaperEnclave().run(5)
    register(env, a)
    put(db, a)
    publish(db, env)
    overlap, _ = build_checkpoint(
        a.key, receipt_ids=[r.body_hash for r in a.receipts[2:5]], first_seq=3,
        prev=a.checkpoints[0].hash, keyset=a.keyset.hash(), time_ms=1,
    )  # fmt: skip
    put_checkpoint(db, a.name, overlap)
    a.run(2)
    put(db, a)
    result = publish(db, env).signers[a.address]
    assert result.anchored == [6] and result.rejected == 1
    by_first = {r.first_seq: r for r in records(db, env, a.address)}
    assert by_first[3].state == "rejected"
    assert "NotContiguous" in (by_first[3].error or "") and "overlaps" in (by_first[3].error or "")


def test_a_fork_on_the_path_blocks_the_signer(env: ChainEnv, tmp_path: Path) -> None:
    """A checkpoint that does not link to the anchored one (prev) is refused for good, and
    the checkpoints after it can never follow."""
    db = tmp_path / "gateway.db"
    a = PaperEnclave().run(2)
    register(env, a)
    put(db, a)
    publish(db, env)
    fork, _ = build_checkpoint(
        a.key, receipt_ids=[b"\x01" * 32], first_seq=3, prev=b"\x02" * 32,
        keyset=a.keyset.hash(), time_ms=1,
    )  # fmt: skip
    later, _ = build_checkpoint(
        a.key, receipt_ids=[b"\x03" * 32], first_seq=4, prev=fork.hash,
        keyset=a.keyset.hash(), time_ms=2,
    )  # fmt: skip
    put_checkpoint(db, a.name, fork)
    put_checkpoint(db, a.name, later)
    result = publish(db, env).signers[a.address]
    assert result.state == "blocked" and result.rejected == 2
    assert "PrevMismatch" in (result.message or "")
    by_first = {r.first_seq: r for r in records(db, env, a.address)}
    assert "cannot follow the rejected checkpoint at seq 3" in (by_first[4].error or "")


def test_an_unreachable_chain_loses_nothing(anvil: Anvil, tmp_path: Path) -> None:
    db = tmp_path / "gateway.db"
    direct = connect(anvil.url)
    owner = TransactionSender(direct, funded_account(direct))
    deployment = deploy(owner)
    a = PaperEnclave().run(2)
    RegistryClient(direct, deployment.registry, sender=owner).register(
        a.address, measurement=b"\x01" * 32, evidence_hash=b"\x02" * 32
    )
    put(db, a)
    fast = RetryPolicy(attempts=2, backoff_s=0.001)

    def chain(w3: Web3) -> AnchorChain:
        sender = TransactionSender(w3, owner.account, policy=fast)
        return AnchorChain(
            w3, sender, AnchorClient(w3, deployment.anchor, sender=sender, policy=fast),
            RegistryClient(w3, deployment.registry, sender=sender), anvil.chain_id, 0,
        )  # fmt: skip

    with flaky_proxy(anvil.url, "503", always=True) as proxy:
        host, port = proxy.server_address[:2]
        down = chain(connect(f"http://{host!s}:{port}", policy=fast))
        with sqlite_store(db) as use:
            result = use(lambda store: Publisher(store=store, chain=down).round()).signers[
                a.address
            ]
    assert result.state == "unavailable" and "(2 attempts)" in (result.message or "")
    with sqlite_store(db) as use:
        assert use(lambda store: store.anchor_records(deployment.anchor, a.address)) == []
        back = use(lambda store: Publisher(store=store, chain=chain(direct)).round())
    assert back.signers[a.address].anchored == [1]
