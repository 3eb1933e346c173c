"""``veritee enclave serve --config``: a real process, configured by TOML, stopped by SIGTERM."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.conftest import REPO
from tests.enclave.conftest import OPENAI_MODEL
from tests.helpers.snp import simulated_state_dir
from transcript import parse_receipt_header
from veritee.upstream_sim import ThreadedSim

DIGEST = "sha256:" + "cd" * 32


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def run(*args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "veritee", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO,
        check=False,
    )


def test_serves_signs_and_stops_cleanly(tmp_path: Path, sim: ThreadedSim) -> None:
    port = free_port()
    simulated_state_dir().mkdir(parents=True, exist_ok=True)
    config = tmp_path / "enclave.toml"
    config.write_text(
        f"""
[server]
port = {port}

[identity]
image_digest = "{DIGEST}"

[attestation]
provider = "simulated-sev-snp"
state_dir = "{simulated_state_dir()}"

[upstream]
ca_bundle = "{sim.endpoint.ca_path}"

[[upstreams]]
name = "sim"
dialect = "openai"
base_url = "{sim.openai_base_url}"
api_key = "sk-sim"
models = ["{OPENAI_MODEL}"]
"""
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "veritee", "enclave", "serve", "--config", str(config)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, process.communicate()[0]
            try:
                if httpx.get(url + "/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the enclave did not become ready"
            time.sleep(0.05)
        answer = httpx.post(
            url + "/v1/chat/completions",
            json={"model": OPENAI_MODEL, "messages": [{"role": "user", "content": "hi"}]},
        )
        assert answer.status_code == 200
        receipt = parse_receipt_header(answer.headers["veritee-receipt"])
        assert httpx.get(url + "/v1/keyset").json()["image_digest"] == DIGEST
        assert receipt.body.upstream.provider == "sim"
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, output
    assert "sk-sim" not in output, "API keys never reach the log"


def test_bad_configuration_exits_2(tmp_path: Path) -> None:
    config = tmp_path / "enclave.toml"
    config.write_text('[identity]\nimage_digest = "sha256:nope"\n')
    result = run("enclave", "serve", "--config", str(config))
    assert result.returncode == 2
    assert "identity.image_digest" in result.stderr
    assert "Traceback" not in result.stderr
    missing = run("enclave", "serve", "--config", str(tmp_path / "absent.toml"))
    assert missing.returncode == 2
    assert "cannot read" in missing.stderr


def test_usage_without_a_command() -> None:
    result = run("enclave")
    assert result.returncode == 2
    assert "serve" in result.stderr


def test_python_m_enclave_is_the_same_process(tmp_path: Path) -> None:
    """The image's entrypoint: no veritee CLI, same configuration errors and exit codes."""
    result = subprocess.run(
        [sys.executable, "-m", "enclave", "--config", str(tmp_path / "absent.toml")],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=REPO,
        check=False,
    )
    assert result.returncode == 2
    assert "cannot read" in result.stderr
    assert "Traceback" not in result.stderr
