"""Reading each signer's anchored chain once, and a whole log checked against it, on
eth-tester and anvil; ``veritee verify receipts --rpc`` end to end on anvil."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from tests.cli.helpers import run_cli
from tests.helpers.chains import ChainEnv
from tests.helpers.transparency import POLICY, PaperEnclave, register, roots_dir
from verifier.anchor import (
    AnchorClient,
    Anvil,
    ChainUnavailable,
    InclusionInvalid,
    RegistryClient,
    TransactionSender,
    anchored_history,
    connect,
    deploy,
    funded_account,
)
from verifier.transparency.chain import read_chain
from verifier.transparency.logcheck import check_log_against_chain


def anchored(env: ChainEnv, *sizes: int, tail: int = 0) -> PaperEnclave:
    """A fresh enclave's checkpoints, anchored; ``enclave.since`` is the block before them
    (where event scans start: the session's chain is long, and eth-tester scans slowly)."""
    enclave = PaperEnclave().run(*sizes, tail=tail)
    enclave.since = env.w3.eth.block_number
    register(env, enclave)
    for checkpoint in enclave.checkpoints:
        env.anchor.submit(checkpoint)
    return enclave


def test_a_signers_history_is_every_checkpoint_with_its_transaction(env: ChainEnv) -> None:
    enclave = anchored(env, 3, 1, 4)
    history = anchored_history(env.anchor, enclave.address, from_block=enclave.since)
    assert [(e.index, e.first_seq, e.last_seq) for e in history.entries] == [
        (0, 1, 3), (1, 4, 4), (2, 5, 8),
    ]  # fmt: skip
    for entry, signed in zip(history.entries, enclave.checkpoints, strict=True):
        found = env.anchor.find(signed)
        assert found is not None
        assert (entry.digest, entry.tx_hash, entry.block_number) == (
            signed.hash, found.tx_hash, found.block_number,
        )  # fmt: skip
    assert history.covering(4) == history.entries[1] and history.covering(9) is None
    assert (
        anchored_history(env.anchor, PaperEnclave().address, from_block=enclave.since).entries == ()
    )


def test_a_history_that_misses_events_is_could_not_check(env: ChainEnv) -> None:
    enclave = anchored(env, 2, 2)
    late = env.anchor.find(enclave.checkpoints[1])
    assert late is not None
    with pytest.raises(ChainUnavailable) as info:
        anchored_history(env.anchor, enclave.address, from_block=late.block_number)
    assert info.value.check == "anchor.history" and "[0]" in info.value.reason


def test_only_deep_enough_checkpoints_count(env: ChainEnv) -> None:
    enclave = anchored(env, 2, 2)
    view = read_chain(
        env.w3, anchor=env.anchor.address, signers=[enclave.address], from_block=enclave.since
    )
    assert view.histories[enclave.address].last_seq == 4
    deep = read_chain(
        env.w3, anchor=env.anchor.address, signers=[enclave.address], min_confirmations=2,
        from_block=enclave.since,
    )  # fmt: skip
    assert deep.histories[enclave.address].last_seq == 2  # the newest is one block deep


def test_an_address_that_is_not_the_anchor_is_refused(env: ChainEnv) -> None:
    with pytest.raises(InclusionInvalid) as info:
        read_chain(env.w3, anchor=env.deployment.registry, signers=[])
    assert info.value.check == "anchor.code"


def test_a_log_against_the_chain(env: ChainEnv) -> None:
    enclave = anchored(env, 4, 4, tail=3)
    view = read_chain(
        env.w3, anchor=env.anchor.address, signers=[enclave.address], from_block=enclave.since
    )
    whole = check_log_against_chain(enclave.receipts, view)
    assert whole.ok() and whole.counts() == {
        "included": 8, "not_anchored": 3, "unproven": 0, "failed": 0,
    }  # fmt: skip
    assert not whole.ok(require_anchored=True)
    gappy = [r for r in enclave.receipts if r.body.seq not in (2, 8)]
    broken = check_log_against_chain(gappy, view).signers[enclave.address]
    assert broken.missing == [2, 8] and not broken.ok
    window = check_log_against_chain(enclave.receipts[4:], view, window=True)
    assert window.ok() and window.counts()["included"] == 4


def test_verify_receipts_with_rpc(
    anvil: Anvil, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    w3 = connect(anvil.url)
    owner = TransactionSender(w3, funded_account(w3))
    deployment = deploy(owner)
    enclave = PaperEnclave().run(5, 5, tail=2)
    RegistryClient(w3, deployment.registry, sender=owner).register(
        enclave.address, measurement=b"\x01" * 32, evidence_hash=b"\x02" * 32
    )
    anchor = AnchorClient(w3, deployment.anchor, sender=owner)
    for checkpoint in enclave.checkpoints:
        anchor.submit(checkpoint)
    evidence = tmp_path / "evidence.json"
    evidence.write_bytes(enclave.document.to_json())
    policy = tmp_path / "policy.toml"
    policy.write_text(POLICY)
    log = tmp_path / "log.jsonl"

    def verify(receipts: list, *extra: object) -> tuple[int, str]:
        log.write_bytes(b"".join(r.canonical() + b"\n" for r in receipts))
        done = run_cli(
            capsys, "verify", "receipts", log, "--evidence", evidence, "--roots", roots_dir(),
            "--policy", policy, "--rpc", anvil.url, "--contract", deployment.anchor, *extra,
        )  # fmt: skip
        return done.code, done.out

    code, out = verify(enclave.receipts)
    assert code == 0, out
    assert "10 receipts proven in 2 anchored checkpoints (seq 1..10), complete" in out
    assert "NOTE 2 receipts are not anchored yet (seq > 10)" in out
    code, out = verify(enclave.receipts, "--require-anchored")
    assert code == 1 and "FAIL 2 receipts are not anchored yet" in out
    code, out = verify([r for r in enclave.receipts if r.body.seq != 10], "--json")
    assert code == 1
    anchoring = orjson.loads(out)["anchoring"]["signers"][enclave.address]
    assert anchoring["missing"] == [10]
    code, out = verify(enclave.receipts[:7])  # the tail of an anchored range withheld
    assert code == 1 and "seq 8..10 are missing from the log" in out
    done = run_cli(capsys, "verify", "receipts", log, "--evidence", evidence, "--rpc", anvil.url)
    assert done.code == 2 and "--rpc needs --contract" in done.err
