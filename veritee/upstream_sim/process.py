"""The simulator as a child process (its own interpreter, so its own core in benchmarks)."""

from __future__ import annotations

import json
import re
import ssl
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path
from typing import Any

from veritee.upstream_sim.running import RunningSim, SimEndpoint
from veritee.upstream_sim.settings import SimSettings
from veritee.upstream_sim.tls import TlsFiles

_PREFIX = "upstream-sim listening "


def listening_line(endpoint: SimEndpoint, cert: Path | None = None) -> str:
    """The line ``serve`` prints at start: ``upstream-sim listening url=... [ca=... ...]``."""
    line = f"{_PREFIX}url={endpoint.base_url}"
    if endpoint.tls:
        line += f" ca={endpoint.ca_path or '-'} cert={cert or '-'}"
        line += f" spki_sha256={endpoint.spki_sha256}"
    return line


def parse_listening_line(line: str) -> SimEndpoint:
    """The endpoint announced by ``veritee upstream-sim serve`` on its first line."""
    start = line.find(_PREFIX)
    fields = dict(
        item.split("=", 1) for item in line[start + len(_PREFIX) :].split() if "=" in item
    )
    match = re.fullmatch(r"(https?)://\[?([^\]]*?)\]?:(\d+)", fields.get("url", ""))
    if start < 0 or match is None:
        raise ValueError(f"not an upstream-sim start line: {line!r}")
    ca = fields.get("ca", "-")
    return SimEndpoint(
        host=match[2],
        port=int(match[3]),
        tls=match[1] == "https",
        ca_path=None if ca == "-" else Path(ca),
        spki_sha256=fields.get("spki_sha256"),
    )


def serve_args(settings: SimSettings) -> list[str]:
    """Command-line flags of ``upstream-sim serve`` that reproduce ``settings``."""
    args = [
        f"--latency-ms={settings.latency_ms}",
        f"--chunk-delay-ms={settings.chunk_delay_ms}",
        f"--stall-max-s={settings.stall_max_s}",
        f"--hold-max-s={settings.hold_max_s}",
        f"--seed={settings.seed}",
        f"--max-body-bytes={settings.max_body_bytes}",
    ]
    if settings.chunks is not None:
        args.append(f"--chunks={settings.chunks}")
    if settings.epoch is not None:
        args.append(f"--epoch={settings.epoch}")
    if settings.api_key is not None:
        args.append(f"--api-key={settings.api_key}")
    return args


class SubprocessSim(RunningSim):
    """A running ``veritee upstream-sim serve`` child; ``stop()`` ends it (SIGTERM, then kill)."""

    def __init__(self, process: subprocess.Popen[str], endpoint: SimEndpoint) -> None:
        self.process = process
        self.endpoint = endpoint

    def release(self, token: str) -> int:
        return int(self._control("POST", f"/_sim/release/{token}")["waiting"])

    def waiting(self, token: str) -> int:
        return int(self._control("GET", f"/_sim/hold/{token}")["waiting"])

    def requests(self) -> list[dict[str, Any]]:
        return list(self._control("GET", "/_sim/requests")["requests"])

    def stop(self, timeout: float = 10.0) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)
        if self.process.stdout:
            self.process.stdout.close()

    def _control(self, method: str, path: str) -> Any:
        context = None
        if self.endpoint.tls:
            context = ssl.create_default_context(cafile=self.endpoint.ca_path)
        request = urllib.request.Request(self.base_url + path, method=method)  # noqa: S310
        with urllib.request.urlopen(request, timeout=10, context=context) as response:  # noqa: S310
            return json.loads(response.read())


def start_subprocess(
    settings: SimSettings | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    tls: TlsFiles | None = None,
    self_signed_dir: Path | None = None,
    python: str = sys.executable,
    timeout: float = 30.0,
) -> SubprocessSim:
    """Start ``python -m veritee upstream-sim serve`` and wait for its listening line."""
    argv = [python, "-m", "veritee", "upstream-sim", "serve", f"--port={port}", f"--host={host}"]
    argv += serve_args(settings or SimSettings())
    if tls is not None:
        argv += [f"--tls-cert={tls.cert}", f"--tls-key={tls.key}"]
    elif self_signed_dir is not None:
        argv.append(f"--tls-self-signed={self_signed_dir}")
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)  # noqa: S603
    assert process.stdout is not None
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.append(process.stdout.readline()), daemon=True)  # type: ignore[union-attr]
    reader.start()
    reader.join(timeout)
    if not lines or not lines[0]:
        process.kill()
        process.wait()
        raise RuntimeError(f"upstream-sim did not start (exit code {process.returncode})")
    endpoint = parse_listening_line(lines[0])
    if tls is not None and tls.ca is not None:
        endpoint = SimEndpoint(endpoint.host, endpoint.port, True, tls.ca, endpoint.spki_sha256)
    return SubprocessSim(process, endpoint)
