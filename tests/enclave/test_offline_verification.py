"""End to end: what an enclave serves is what a compliance team verifies offline.

Receipts caught up through ``GET /v1/receipts`` and the document of ``GET /v1/attestation``
go to ``veritee verify receipts`` (the real CLI, in a subprocess) with the simulator's roots.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import orjson

from tests.conftest import REPO
from tests.enclave.conftest import ANTHROPIC_MODEL, OPENAI_MODEL, StartEnclave
from tests.helpers.snp import simulated_state_dir


def verify(receipts: Path, evidence: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable, "-m", "veritee", "verify", "receipts", str(receipts),
            "--evidence", str(evidence), "--roots", str(simulated_state_dir()),
        ],
        capture_output=True, text=True, timeout=60, cwd=REPO, check=False,
    )  # fmt: skip


def test_an_enclaves_log_verifies_offline_and_a_dropped_receipt_does_not(
    start_enclave: StartEnclave, tmp_path: Path
) -> None:
    running = start_enclave()
    http = httpx.Client(base_url=running.url, timeout=10)
    for i in range(6):
        http.post(
            "/v1/chat/completions",
            json={
                "model": OPENAI_MODEL if i % 2 else ANTHROPIC_MODEL,
                "stream": i % 3 == 0,
                "messages": [{"role": "user", "content": f"question {i}"}],
            },
        )
    evidence = tmp_path / "attestation.json"
    evidence.write_bytes(http.get("/v1/attestation").content)
    lines = [orjson.dumps(r) for r in http.get("/v1/receipts").json()["data"]]
    assert len(lines) == 6
    log = tmp_path / "receipts.jsonl"
    log.write_bytes(b"\n".join(lines) + b"\n")
    good = verify(log, evidence)
    assert good.returncode == 0, good.stdout + good.stderr

    log.write_bytes(b"\n".join(lines[:2] + lines[3:]) + b"\n")
    dropped = verify(log, evidence)
    assert dropped.returncode == 1, dropped.stdout + dropped.stderr
