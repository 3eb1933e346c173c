"""A publisher that dies at the worst moments loses nothing and sends nothing twice.

The crash is a BaseException raised from inside the chain calls (it unwinds everything, as
a kill would leave the store), then a new publisher with a new sender (a new process, its
nonce counter fresh from the node) runs on the same store and chain.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from web3.types import RPCEndpoint

from gateway.anchoring.chain import AnchorChain
from gateway.anchoring.publisher import Publisher
from tests.helpers.chains import ChainEnv
from tests.helpers.transparency import PaperEnclave, anchor_chain, fill, register, sqlite_store
from verifier.anchor import (
    AnchorClient,
    RetryPolicy,
    TransactionSender,
    funded_account,
)


class Crash(BaseException):
    """The process dies here."""


def round_with(path: Path, chain: AnchorChain) -> Any:
    with sqlite_store(path) as use:
        return use(lambda store: Publisher(store=store, chain=chain).round())


def states(path: Path, contract: str, signer: str) -> list[tuple[int, str, str | None]]:
    with sqlite_store(path) as use:
        found = use(lambda store: store.anchor_records(contract, signer))
    return [(r.first_seq, r.state, r.tx_hash) for r in found]


def setup(env: ChainEnv, path: Path, *sizes: int) -> PaperEnclave:
    enclave = PaperEnclave().run(*sizes)
    register(env, enclave)
    with sqlite_store(path) as use:
        use(lambda store: fill(store, enclave))
    return enclave


def test_killed_after_sending_before_the_receipt_is_stored(
    env: ChainEnv, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "gateway.db"
    enclave = setup(env, db, 2, 3)
    account = funded_account(env.w3)

    def crash(self: AnchorClient, signed: Any, tx_hash: bytes) -> Any:
        raise Crash

    with monkeypatch.context() as patch:
        patch.setattr(AnchorClient, "confirm", crash)
        with pytest.raises(Crash):
            round_with(db, anchor_chain(env, TransactionSender(env.w3, account)))
    ((first, state, sent_hash),) = states(db, env.deployment.anchor, enclave.address)
    assert (first, state) == (1, "submitted") and sent_hash is not None

    report = round_with(db, anchor_chain(env, TransactionSender(env.w3, account)))
    result = report.signers[enclave.address]
    assert (result.learned, result.anchored) == (1, [3])
    after = states(db, env.deployment.anchor, enclave.address)
    assert after[0] == (1, "confirmed", sent_hash)  # the very transaction sent before the crash
    assert [s for _, s, _ in after] == ["confirmed", "confirmed"]
    assert env.w3.eth.get_transaction_count(account.address) == 2  # one per checkpoint


def test_killed_after_storing_the_hash_before_sending(
    env: ChainEnv, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "gateway.db"
    enclave = setup(env, db, 4)
    account = funded_account(env.w3)

    def crash(self: TransactionSender, raw: bytes) -> None:
        raise Crash

    with monkeypatch.context() as patch:
        patch.setattr(TransactionSender, "_send_raw", crash)
        with pytest.raises(Crash):
            round_with(db, anchor_chain(env, TransactionSender(env.w3, account)))
    ((_, state, _),) = states(db, env.deployment.anchor, enclave.address)
    assert state == "submitted"
    assert env.w3.eth.get_transaction_count(account.address) == 0

    report = round_with(db, anchor_chain(env, TransactionSender(env.w3, account)))
    assert report.signers[enclave.address].anchored == [1]
    ((_, state, _),) = states(db, env.deployment.anchor, enclave.address)
    assert state == "confirmed"
    assert env.w3.eth.get_transaction_count(account.address) == 1  # sent once, after all


def automine(w3: Any, *, on: bool) -> None:
    """Stop (or restart) mining on either chain: transactions then wait in the mempool."""
    tester = getattr(w3.provider, "ethereum_tester", None)
    if tester is None:
        w3.provider.make_request(RPCEndpoint("evm_setAutomine"), [on])
    elif on:
        tester.enable_auto_mine_transactions()
    else:
        tester.disable_auto_mine_transactions()


def mine(w3: Any) -> None:
    tester = getattr(w3.provider, "ethereum_tester", None)
    if tester is None:
        w3.provider.make_request(RPCEndpoint("evm_mine"), [])
    else:
        tester.mine_blocks(1)


def test_a_transaction_still_in_the_mempool_is_waited_for_not_sent_again(
    env: ChainEnv, tmp_path: Path
) -> None:
    """The node stops mining: the transaction sits in the mempool across a restart; the new
    publisher finds it there and only waits."""
    db = tmp_path / "gateway.db"
    enclave = setup(env, db, 3)
    account = funded_account(env.w3)
    impatient = RetryPolicy(receipt_timeout_s=0.5)

    def chain() -> AnchorChain:
        return anchor_chain(env, TransactionSender(env.w3, account, policy=impatient))

    automine(env.w3, on=False)
    try:
        first = round_with(db, chain()).signers[enclave.address]
        assert first.state == "in flight" and "was not mined" in (first.message or "")
        ((_, state, pending_hash),) = states(db, env.deployment.anchor, enclave.address)
        assert state == "submitted" and pending_hash is not None
        assert env.w3.eth.get_transaction(bytes.fromhex(pending_hash))["blockNumber"] is None

        second = round_with(db, chain()).signers[enclave.address]  # a restart, still unmined
        assert second.state == "in flight" and pending_hash in (second.message or "")
        mine(env.w3)
    finally:
        automine(env.w3, on=True)
    third = round_with(db, chain()).signers[enclave.address]
    assert third.learned == 1 and third.anchored == []
    assert states(db, env.deployment.anchor, enclave.address) == [(1, "confirmed", pending_hash)]
    assert env.w3.eth.get_transaction_count(account.address) == 1


def test_a_checkpoint_is_confirmed_only_once_deep_enough(env: ChainEnv, tmp_path: Path) -> None:
    db = tmp_path / "gateway.db"
    enclave = setup(env, db, 2)
    account = funded_account(env.w3)

    def round_deep() -> Any:
        chain = anchor_chain(env, TransactionSender(env.w3, account))
        with sqlite_store(db) as use:
            return use(lambda store: Publisher(store=store, chain=chain, confirmations=3).round())

    first = round_deep().signers[enclave.address]
    assert first.state == "in flight" and "1 of 3 confirmations" in (first.message or "")
    ((_, state, tx_hash),) = states(db, env.deployment.anchor, enclave.address)
    assert state == "submitted"
    for _ in range(2):  # two more blocks on top
        funded_account(env.w3, value_wei=1)
    later = round_deep().signers[enclave.address]
    assert later.learned == 1 and later.state == "up to date"
    assert states(db, env.deployment.anchor, enclave.address) == [(1, "confirmed", tx_hash)]
    assert env.w3.eth.get_transaction_count(account.address) == 1
