"""Building the CLI does not load web3 (a second of start-up): only the subcommands that talk
to a chain import it, when they run."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO


def test_the_cli_starts_without_web3() -> None:
    code = (
        "import sys; from veritee.cli import build_parser; build_parser(); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('web3', 'eth_tester')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO
    )
    assert result.stdout.strip() == "[]"
