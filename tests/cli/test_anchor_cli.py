"""``veritee anchor deploy|register|run|status`` and ``veritee audit export`` against a real
anvil, through the console script; a publisher process killed while its transaction waits in
the mempool; an exported bundle verified on chain."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import orjson
import pytest
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.types import RPCEndpoint

from tests.cli.helpers import run_cli, run_script
from tests.conftest import REPO
from tests.gateway.stack import to_toml, wait_until
from tests.helpers.transparency import POLICY, PaperEnclave, fill, roots_dir, sqlite_store
from verifier.anchor import AnchorClient, Anvil, Deployment, connect, funded_account


@dataclass
class Operator:
    anvil: Anvil
    w3: Web3
    account: LocalAccount
    deployment: Deployment
    config: Path
    db: Path


def key_file(directory: Path, account: LocalAccount) -> Path:
    path = directory / "anchor.key"
    path.write_text(account.key.hex() + "\n")
    path.chmod(0o600)
    return path


@pytest.fixture
def operator(anvil: Anvil, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Operator:
    """Contracts deployed with ``veritee anchor deploy``, and a gateway config naming them."""
    w3 = connect(anvil.url)
    account = funded_account(w3)
    key = key_file(tmp_path, account)
    done = run_cli(capsys, "anchor", "deploy", "--rpc", anvil.url, "--key-file", key,
                   "--out", tmp_path / "deployment.json")  # fmt: skip
    assert done.code == 0, done.err
    deployment = Deployment.from_dict(orjson.loads((tmp_path / "deployment.json").read_bytes()))
    assert Deployment.from_dict(orjson.loads(done.out)) == deployment
    assert f'contract = "{deployment.anchor}"' in done.err
    assert account.key.hex() not in done.out + done.err
    (tmp_path / "policy.toml").write_text(POLICY)
    config = tmp_path / "gateway.toml"
    anchor = {
        "contract": deployment.anchor,
        "rpc_url": anvil.url,
        "key_file": "anchor.key",
        "from_block": deployment.block_number,
        "receipt_timeout_seconds": 30.0,
    }
    attestation = {"policy": "policy.toml", "roots": [str(roots_dir())]}
    config.write_text(
        to_toml(
            {
                "attestation": attestation,
                "store": {"url": "sqlite:///gateway.db"},
                "anchor": anchor,
            }
        )
    )
    return Operator(anvil, w3, account, deployment, config, tmp_path / "gateway.db")


def test_register_run_status_and_a_bundle_checked_on_chain(
    operator: Operator, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    a, b = PaperEnclave("a").run(3, 2, tail=1), PaperEnclave("b").run(4)
    with sqlite_store(operator.db) as use:
        use(lambda store: fill(store, a, b))
    config = ("--config", operator.config)
    done = run_cli(capsys, "anchor", "register", *config)
    assert done.code == 0, done.err + done.out
    assert done.out.count("REGISTERED") == 2 and "measurement id 0x" in done.out
    assert run_cli(capsys, "anchor", "register", *config).out.count("KNOWN") == 2

    done = run_cli(capsys, "anchor", "status", *config)
    assert f"{a.address}: 2 pending, 0 submitted, 0 confirmed" in done.out
    done = run_cli(capsys, "anchor", "run", "--once", *config)
    assert done.code == 0, done.out
    assert f"UP TO DATE   {a.address}: 2 anchored" in done.out
    status = orjson.loads(run_cli(capsys, "anchor", "status", "--json", *config).out)
    assert status["signers"][a.address]["counts"]["confirmed"] == 2
    assert status["signers"][a.address]["confirmed_to_seq"] == 5
    assert AnchorClient(operator.w3, operator.deployment.anchor).head(b.address).last_seq == 4

    bundle = tmp_path / "bundle.tar"
    done = run_script("audit", "export", *config, "--out", bundle)
    assert done.code == 0, done.err
    assert "10 receipts, 3 checkpoints (3 anchored), 2 enclaves" in done.out
    chain = ("--rpc", operator.anvil.url, "--contract", operator.deployment.anchor)
    done = run_script("verify", "bundle", bundle, "--roots", roots_dir(), *chain)
    assert done.code == 0, done.out
    assert f"checked on chain 31337 at {operator.deployment.anchor}" in done.out
    assert "9 included, 1 not checkpointed yet" in done.out


def test_a_bundle_naming_the_wrong_transaction_fails_on_chain(
    operator: Operator, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from dataclasses import replace

    from verifier.audit import read_bundle, write_bundle
    from verifier.audit.tarball import file_entry

    a = PaperEnclave("a").run(2, 2)
    with sqlite_store(operator.db) as use:
        use(lambda store: fill(store, a))
    config = ("--config", operator.config)
    assert run_cli(capsys, "anchor", "register", *config).code == 0
    assert run_cli(capsys, "anchor", "run", "--once", *config).code == 0
    assert run_cli(capsys, "audit", "export", *config, "--out", tmp_path / "b.tar").code == 0
    raw = read_bundle(tmp_path / "b.tar")
    lines = raw.files["anchorings.jsonl"].splitlines()
    first = orjson.loads(lines[0])
    first["tx_hash"] = "ee" * 32
    lines[0] = orjson.dumps(first)
    files = {**raw.files, "anchorings.jsonl": b"\n".join(lines) + b"\n"}
    manifest = replace(
        raw.manifest,
        files={**raw.manifest.files, "anchorings.jsonl": file_entry(files["anchorings.jsonl"])},
    )
    write_bundle(tmp_path / "forged.tar", manifest, files)
    offline = run_cli(capsys, "verify", "bundle", tmp_path / "forged.tar", "--roots", roots_dir())
    assert offline.code == 0  # offline, anchoring is only a claim, and said to be
    assert "anchoring was not checked against a chain" in offline.out
    online = run_cli(capsys, "verify", "bundle", tmp_path / "forged.tar", "--roots", roots_dir(),
                     "--rpc", operator.anvil.url, "--contract", operator.deployment.anchor)  # fmt: skip
    assert online.code == 1
    assert "anchor.transaction: the bundle says transaction 0x" + "ee" * 32 in online.out


def test_a_publisher_killed_while_its_transaction_waits_sends_it_once(
    operator: Operator, capsys: pytest.CaptureFixture[str]
) -> None:
    a = PaperEnclave("a").run(3)
    with sqlite_store(operator.db) as use:
        use(lambda store: fill(store, a))
    config = ("--config", str(operator.config))
    assert run_cli(capsys, "anchor", "register", *config).code == 0
    sent_before = operator.w3.eth.get_transaction_count(operator.account.address)
    operator.w3.provider.make_request(RPCEndpoint("evm_setAutomine"), [False])
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "veritee", "anchor", "run", *config],
            cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )  # fmt: skip
        try:
            with sqlite_store(operator.db) as use:

                def sent() -> bool:
                    found = use(lambda s: s.anchor_record(operator.deployment.anchor, a.address, 1))
                    return found is not None and found.state == "submitted"

                wait_until(sent, within=60)

            def in_mempool() -> bool:
                count = operator.w3.eth.get_transaction_count(operator.account.address, "pending")
                return count == sent_before + 1

            wait_until(in_mempool, within=30)  # sent, and not mined
            assert operator.w3.eth.get_transaction_count(operator.account.address) == sent_before
        finally:
            process.send_signal(signal.SIGKILL)
            process.wait(10)
            assert process.stderr is not None
            process.stderr.close()
        operator.w3.provider.make_request(RPCEndpoint("evm_mine"), [])
    finally:
        operator.w3.provider.make_request(RPCEndpoint("evm_setAutomine"), [True])
    done = run_script("anchor", "run", "--once", *config)
    assert done.code == 0, done.out + done.err
    assert "0 anchored, 1 found anchored" in done.out
    assert operator.w3.eth.get_transaction_count(operator.account.address) == sent_before + 1


def test_configuration_and_key_errors_are_bad_input(
    operator: Operator, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    secret = "11" * 32
    bad = tmp_path / "bad.key"
    bad.write_text("0x" + secret[:-2] + "zz")
    done = run_cli(capsys, "anchor", "deploy", "--rpc", operator.anvil.url, "--key-file", bad)
    assert done.code == 2 and "64 hex digits" in done.err and secret[:-2] not in done.err
    done = run_cli(capsys, "anchor", "deploy", "--rpc", "embedded", "--key-env", "NOPE")
    assert done.code == 2 and "embedded chain lives only inside one process" in done.err
    text = operator.config.read_text().replace('key_file = "anchor.key"', 'key_env = "NO_SUCH_VAR"')
    operator.config.write_text(text)
    done = run_cli(capsys, "anchor", "run", "--once", "--config", operator.config)
    assert done.code == 2 and "$NO_SUCH_VAR is not set" in done.err
    operator.config.write_text(text.replace(operator.deployment.anchor, "0x1234"))
    done = run_cli(capsys, "anchor", "status", "--config", operator.config)
    assert done.code == 2 and "anchor.contract" in done.err
