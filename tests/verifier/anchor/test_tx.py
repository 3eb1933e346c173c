"""TransactionSender: retries through a failing network, nonces, timeouts, node refusals."""

from __future__ import annotations

from dataclasses import astuple

import pytest
import requests
from eth_account import Account
from web3 import Web3
from web3.types import RPCEndpoint

from tests.helpers.anchoring import Transcript, random32
from tests.helpers.chains import ChainEnv
from tests.helpers.flaky_rpc import Failure, flaky_proxy
from verifier.anchor import (
    AnchorClient,
    Anvil,
    ChainUnavailable,
    ContractRejected,
    RegistryClient,
    RetryPolicy,
    TransactionSender,
    connect,
    deploy,
    funded_account,
)
from verifier.anchor.rpc import retrying

FAST = RetryPolicy(attempts=3, backoff_s=0.001, receipt_timeout_s=30)


@pytest.mark.parametrize("failure", ["503", "drop", "lose-response"])
def test_anchoring_goes_through_a_flaky_rpc(anvil: Anvil, failure: Failure) -> None:
    """The first try of every RPC call fails; with lost responses, the node did act on it."""
    direct = connect(anvil.url)
    account = funded_account(direct)
    with flaky_proxy(anvil.url, failure) as proxy:
        host, port = proxy.server_address[:2]
        w3 = connect(f"http://{host!s}:{port}", policy=FAST)
        sender = TransactionSender(w3, account, policy=FAST)
        deployment = deploy(sender)
        t = Transcript()
        RegistryClient(w3, deployment.registry, sender=sender).register(
            t.address, measurement=random32(), evidence_hash=random32()
        )
        anchor = AnchorClient(w3, deployment.anchor, sender=sender)
        indices = [anchor.submit(t.next_checkpoint(2)).index for _ in range(3)]
    assert indices == [0, 1, 2]
    assert proxy.failures >= 10
    assert AnchorClient(direct, deployment.anchor).head(t.address).last_seq == 6


def test_an_rpc_that_never_answers_is_could_not_check(anvil: Anvil) -> None:
    with flaky_proxy(anvil.url, "503", always=True) as proxy:
        host, port = proxy.server_address[:2]
        w3 = connect(f"http://{host!s}:{port}", policy=FAST)
        with pytest.raises(ChainUnavailable) as info:
            AnchorClient(w3, "0x" + "11" * 20, policy=FAST).head("0x" + "22" * 20)
    assert info.value.check == "anchor.rpc"
    assert proxy.requests == FAST.attempts


def test_a_sender_recovers_when_another_process_used_its_nonce(env: ChainEnv) -> None:
    account = funded_account(env.w3)
    ours = AnchorClient(env.w3, env.anchor.address, sender=TransactionSender(env.w3, account))
    theirs = AnchorClient(env.w3, env.anchor.address, sender=TransactionSender(env.w3, account))
    t1, t2 = Transcript(), Transcript()
    for t in (t1, t2):
        env.registry.register(t.address, measurement=random32(), evidence_hash=random32())

    ours.submit(t1.next_checkpoint(1))  # nonce 0: our counter now says 1
    theirs.submit(t2.next_checkpoint(1))  # nonce 1
    theirs.submit(t2.next_checkpoint(1))  # nonce 2
    assert ours.submit(t1.next_checkpoint(1)).index == 1  # 1 is taken: re-seeded to 3
    assert env.w3.eth.get_transaction_count(account.address) == 4


def test_a_transaction_that_is_never_mined_times_out() -> None:
    with Anvil() as node:
        w3 = connect(node.url)
        sender = TransactionSender(
            w3, funded_account(w3), policy=RetryPolicy(receipt_timeout_s=0.3)
        )
        automine(w3, on=False)
        with pytest.raises(ChainUnavailable, match=r"was not mined within 0\.3 s"):
            deploy(sender)


def test_a_refused_transaction_is_named(env: ChainEnv) -> None:
    broke = TransactionSender(env.w3, Account.create())  # no ether for gas
    with pytest.raises(ChainUnavailable) as info:
        deploy(broke)
    assert info.value.check in {"anchor.send", "anchor.rpc"}


def test_retrying_retries_only_transient_errors() -> None:
    calls: list[int] = []
    sleeps: list[float] = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise requests.ConnectionError("connection refused")
        return "ok"

    policy = RetryPolicy(attempts=3, backoff_s=0.5, max_backoff_s=0.75)
    assert retrying("flaky", flaky, policy, sleeps.append) == "ok"
    assert sleeps == [0.5, 0.75]

    def broken() -> str:
        raise ValueError("not a network problem")

    with pytest.raises(ValueError, match="not a network problem"):
        retrying("broken", broken, policy, sleeps.append)
    assert len(sleeps) == 2


def test_a_competing_submission_that_lands_first_is_explained() -> None:
    """Two relays send the same checkpoint before either is mined: one wins, and the other's
    failed receipt is explained by replaying it."""
    with Anvil() as node:
        w3 = connect(node.url)
        owner = TransactionSender(w3, funded_account(w3))
        relays = [TransactionSender(w3, funded_account(w3)) for _ in range(2)]
        deployment = deploy(owner)
        t = Transcript()
        RegistryClient(w3, deployment.registry, sender=owner).register(
            t.address, measurement=random32(), evidence_hash=random32()
        )
        cp = t.next_checkpoint(3)
        fields = astuple(cp.checkpoint)
        data = AnchorClient(w3, deployment.anchor).contract.contract.encode_abi(
            "submitCheckpoint", args=[*fields, cp.signature]
        )
        automine(w3, on=False)
        hashes = [
            relay.send(
                contract="TranscriptAnchor", to=deployment.anchor, data=bytes.fromhex(data[2:])
            )
            for relay in relays
        ]
        w3.provider.make_request(RPCEndpoint("evm_mine"), [])
        automine(w3, on=True)
        assert relays[0].wait("TranscriptAnchor", hashes[0]).gas_used > 0
        with pytest.raises(ContractRejected) as info:
            relays[1].wait("TranscriptAnchor", hashes[1])
    assert (info.value.error_name, info.value.error_args) == (
        "NotContiguous",
        {"expectedFirstSeq": 4, "firstSeq": 1},
    )


def automine(w3: Web3, *, on: bool) -> None:
    w3.provider.make_request(RPCEndpoint("evm_setAutomine"), [on])
