"""Start, time and stop: the checkpoint timer, the last checkpoint at shutdown, many enclaves."""

from __future__ import annotations

import time

import httpx

from attestation.simulated.snp import SimulatedSnpProvider
from tests.enclave.conftest import OPENAI_MODEL, StartEnclave
from tests.helpers.enclave import running_enclaves, start_enclave
from veritee.upstream_sim import ThreadedSim

ASK = {"model": OPENAI_MODEL, "messages": [{"role": "user", "content": "hi"}]}


def test_the_timer_cuts_a_checkpoint_over_pending_receipts(start_enclave: StartEnclave) -> None:
    running = start_enclave(receipts={"checkpoint_every_seconds": 0.2})
    httpx.post(running.url + "/v1/chat/completions", json=ASK)
    deadline = time.monotonic() + 10
    while not running.enclave.checkpoints.after(0):
        assert time.monotonic() < deadline, "no checkpoint was cut"
        time.sleep(0.05)
    (checkpoint,) = running.enclave.checkpoints.after(0)
    assert (checkpoint.checkpoint.first_seq, checkpoint.checkpoint.last_seq) == (1, 1)


def test_stopping_cuts_a_last_checkpoint(sim: ThreadedSim, snp: SimulatedSnpProvider) -> None:
    running = start_enclave(sim, snp)
    for _ in range(3):
        httpx.post(running.url + "/v1/chat/completions", json=ASK)
    assert running.enclave.checkpoints.after(0) == []
    running.server.stop()
    (checkpoint,) = running.enclave.checkpoints.after(0)
    assert checkpoint.checkpoint.last_seq == 3
    assert running.enclave.proxy.transport is None


def test_many_enclaves_have_their_own_keys_and_chains(
    sim: ThreadedSim, snp: SimulatedSnpProvider
) -> None:
    with running_enclaves(sim, snp, n=3) as pool:
        for running in pool:
            assert httpx.post(running.url + "/v1/chat/completions", json=ASK).status_code == 200
        signers = {r.enclave.identity.address for r in pool}
        firsts = [r.enclave.log.since(0, 1)[0].receipt.body.seq for r in pool]
    assert len(signers) == 3
    assert firsts == [1, 1, 1]
