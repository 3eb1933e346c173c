"""Running the CLI in-process (fast) or as the real console script (for exit codes end to end)."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass

import pytest

from veritee.cli import main


@dataclass
class Run:
    code: int
    out: str
    err: str


def run_cli(capsys: pytest.CaptureFixture[str], *argv: object) -> Run:
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err + captured.out
    return Run(code, captured.out, captured.err)


def run_script(*argv: object, stdin: bytes | None = None) -> Run:
    proc = subprocess.run(
        [sys.executable, "-m", "veritee", *map(str, argv)],
        input=stdin,
        capture_output=True,
        timeout=120,
        check=False,
    )
    out, err = proc.stdout.decode(), proc.stderr.decode()
    assert "Traceback" not in out + err
    return Run(proc.returncode, out, err)
