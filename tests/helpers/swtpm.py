"""Run a real swtpm (TPM 2.0 emulator) on 127.0.0.1 for the duration of a test module."""

from __future__ import annotations

import importlib.util
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.conftest import need

STARTUP_SECONDS = 10.0


def need_swtpm() -> None:
    """Skip locally / fail in CI unless swtpm and tpm2-pytss are both available."""
    need(shutil.which("swtpm") is not None, "swtpm is not installed (apt-get install swtpm)")
    need(
        importlib.util.find_spec("tpm2_pytss") is not None,
        "tpm2-pytss is not installed (pip install -e '.[vtpm]'; needs libtss2-dev)",
    )


def _free_port_pair() -> int:
    """A free port P whose successor is free too: the swtpm TCTI expects ctrl on P + 1."""
    for _ in range(50):
        with socket.socket() as first, socket.socket() as second:
            first.bind(("127.0.0.1", 0))
            port: int = first.getsockname()[1]
            try:
                second.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
            return port
    raise RuntimeError("no two consecutive free ports on 127.0.0.1")


def _wait_listening(port: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"swtpm exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.02)
    raise RuntimeError(f"swtpm did not listen on port {port} within {STARTUP_SECONDS} s")


@contextmanager
def running_swtpm(state_dir: Path) -> Iterator[str]:
    """Start swtpm with a fresh state in ``state_dir``; yield its TCTI string."""
    server = _free_port_pair()
    command = ["swtpm", "socket", "--tpm2", "--flags", "not-need-init,startup-clear"]
    command += ["--server", f"type=tcp,port={server},bindaddr=127.0.0.1"]
    command += ["--ctrl", f"type=tcp,port={server + 1},bindaddr=127.0.0.1"]
    command += ["--tpmstate", f"dir={state_dir}"]
    proc = subprocess.Popen(
        command,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        _wait_listening(server, proc)
        yield f"swtpm:host=127.0.0.1,port={server}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
