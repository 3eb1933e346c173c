"""``veritee demo --once``: the whole path runs, every receipt checks out, and one receipt's
inclusion proof verifies against the chain the demo anchored on."""

from __future__ import annotations

import pytest

from tests.conftest import REPO, need
from veritee.cli import main


def test_demo_once(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--once"]) == 0
    out = capsys.readouterr().out
    assert out.count("evidence verified for our nonce") == 2
    assert out.count("signature and hashes verified") == 3
    assert "All 3 receipts verified" in out
    assert "Anchoring on the embedded chain" in out
    assert "registered after their stored evidence verified again: enclave-" in out
    assert "its inclusion proof verified against the chain:" in out
    for check in ("signature", "merkle", "code", "transaction", "event", "storage"):
        assert f"    ok anchor.{check}: " in out


def test_demo_once_on_anvil(capsys: pytest.CaptureFixture[str]) -> None:
    from verifier.anchor import find_anvil

    need(find_anvil(search_from=REPO) is not None, "anvil not installed: run `npm ci`")
    assert main(["demo", "--once", "--chain", "anvil"]) == 0
    out = capsys.readouterr().out
    assert "Anchoring on anvil at http://127.0.0.1:" in out
    assert "its inclusion proof verified against the chain:" in out
