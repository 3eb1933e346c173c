"""The anvil launcher that tests, the publisher and the demo share."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import REPO, need
from verifier.anchor import Anvil, DevChainError, connect, find_anvil, funded_account


def test_anvil_is_found_in_node_modules() -> None:
    binary = find_anvil(search_from=REPO)
    need(binary is not None, "anvil not installed: run `npm ci` (see package.json)")
    assert binary is not None and os.access(binary, os.X_OK)
    assert "node_modules" in binary.parts or binary.name == "anvil"


def test_nothing_is_found_where_there_is_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr("verifier.anchor.devchain.__file__", str(tmp_path / "devchain.py"))
    assert find_anvil(search_from=tmp_path) is None


def test_two_anvils_run_side_by_side_and_stop(anvil: Anvil) -> None:
    with Anvil(chain_id=4242) as other:
        assert other.port != anvil.port
        w3 = connect(other.url)
        assert w3.eth.chain_id == 4242
        account = funded_account(w3, value_wei=12345)
        assert w3.eth.get_balance(account.address) == 12345
    assert other.process.poll() is not None
    assert not other.log_path.exists()
    assert connect(anvil.url).eth.chain_id == 31337


def test_a_binary_that_does_not_start_is_reported(tmp_path: Path) -> None:
    fake = tmp_path / "anvil"
    fake.write_text("#!/bin/sh\necho 'no such flag' >&2\nexit 3\n")
    fake.chmod(0o755)
    with pytest.raises(DevChainError, match="exited with 3: no such flag"):
        Anvil(binary=fake)


def test_a_binary_that_never_listens_is_stopped(tmp_path: Path) -> None:
    fake = tmp_path / "anvil"
    fake.write_text("#!/bin/sh\nexec sleep 30\n")
    fake.chmod(0o755)
    with pytest.raises(DevChainError, match="did not start listening"):
        Anvil(binary=fake, startup_timeout_s=0.2)
