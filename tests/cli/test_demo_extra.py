"""What ``make demo`` installs (the ``demo`` extra, alone) is enough to run the demo.

``make demo`` installs ``.[demo]`` into a fresh virtualenv, not the test extras, so a module
the demo needs but only ``dev`` brings would pass every other test (they run in the dev
virtualenv) and fail on a newcomer's machine: it happened with ``httpx``, which the openai
SDK stopped bringing. This builds that virtualenv the way the Makefile does and runs
``veritee demo --once`` in it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO


@pytest.mark.slow
def test_the_demo_runs_from_the_demo_extra_alone(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    bin_ = venv / "bin"
    install = subprocess.run(
        [bin_ / "pip", "install", "--quiet", "-e", f"{REPO}[demo]"],
        capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    assert install.returncode == 0, install.stderr[-3000:]
    env = {k: v for k, v in os.environ.items() if k not in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY")}
    demo = subprocess.run(
        [bin_ / "veritee", "demo", "--once"],
        capture_output=True, text=True, timeout=280, check=False, cwd=tmp_path, env=env,
    )  # fmt: skip
    assert demo.returncode == 0, (demo.stdout[-2000:], demo.stderr[-3000:])
    assert "All 3 receipts verified against keys this client attested itself." in demo.stdout
