"""``veritee demo --once``: the whole path runs and every receipt checks out."""

from __future__ import annotations

import pytest

from veritee.cli import main


def test_demo_once(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--once"]) == 0
    out = capsys.readouterr().out
    assert out.count("evidence verified for our nonce") == 2
    assert out.count("signature and hashes verified") == 3
    assert "All 3 receipts verified" in out
