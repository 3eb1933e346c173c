"""The enclave's overhead against calling the upstream directly.

    python -m bench.bench_enclave [--requests 2000] [--duration 10] [--quick]

Starts the upstream simulator (TLS, its own CA) and an enclave (``veritee enclave serve``)
as separate processes, then drives both paths from this one process in the same run:

- latency at concurrency 1, non-streamed, for both dialects: requests alternate between
  the direct path and the enclave path, so drift affects both alike;
- time to first token of a stream (first content delta), concurrency 1;
- throughput with 64 concurrent clients against an upstream that takes 50 ms (driven by
  ``bench.loadgen``, the light httptools load generator, for both paths);
- why the enclave has its own upstream client: the same requests to the simulator with it
  (``enclave.upstream.h1``), with aiohttp and with httpx.

The direct path is client -> simulator (TLS); the enclave path is client -> enclave
(plain HTTP on loopback) -> simulator (TLS), with the receipt signed and logged. Results
go to stdout (Markdown) and ``bench/results/enclave.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import uvloop

from bench.loadgen import Result, run_load
from enclave.upstream.h1 import H1Transport
from veritee.upstream_sim import SimSettings, self_signed, start_subprocess

ROOT = Path(__file__).resolve().parent.parent
DIGEST = "sha256:" + "be" * 32
OPENAI_MODEL = "gpt-bench"
ANTHROPIC_MODEL = "claude-bench"
PROMPT = "Summarise the benefits of attested inference in one sentence."
FIRST_OPENAI_CONTENT = re.compile(rb'"delta":\{[^}]*"content":"[^"]')


@dataclass(frozen=True)
class Path_:
    """One way to ask for a completion: URL, headers, and body builder."""

    name: str
    url: str
    headers: dict[str, str]
    body: Callable[[bool, str], bytes]
    first_token: re.Pattern[bytes]


def openai_body(model: str) -> Callable[[bool, str], bytes]:
    def build(stream: bool, suffix: str) -> bytes:
        return json.dumps(
            {
                "model": model,
                "stream": stream,
                "messages": [{"role": "user", "content": PROMPT + suffix}],
            }
        ).encode()

    return build


def anthropic_body(stream: bool, suffix: str) -> bytes:
    return json.dumps(
        {
            "model": ANTHROPIC_MODEL,
            "max_tokens": 300,
            "stream": stream,
            "messages": [{"role": "user", "content": PROMPT + suffix}],
        }
    ).encode()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_enclave(workdir: Path, sim_url: str, ca: Path) -> tuple[subprocess.Popen[str], str]:
    port = free_port()
    config = workdir / "enclave.toml"
    config.write_text(
        f"""
[server]
port = {port}
[identity]
image_digest = "{DIGEST}"
[attestation]
provider = "simulated-sev-snp"
state_dir = "{workdir / "sim-amd"}"
[upstream]
ca_bundle = "{ca}"
[[upstreams]]
name = "sim-openai"
dialect = "openai"
base_url = "{sim_url}/v1"
api_key = "sk-bench"
models = ["{OPENAI_MODEL}"]
[[upstreams]]
name = "sim-anthropic"
dialect = "anthropic"
base_url = "{sim_url}/v1"
api_key = "sk-bench"
models = ["{ANTHROPIC_MODEL}"]
"""
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "veritee", "enclave", "serve", "--config", str(config)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("the enclave exited during start")
        try:
            if httpx.get(url + "/readyz").status_code == 200:
                return process, url
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    process.kill()
    raise RuntimeError("the enclave did not become ready")


async def timed(session: aiohttp.ClientSession, path: Path_, body: bytes) -> float:
    start = time.perf_counter()
    async with session.post(path.url, data=body, headers=path.headers) as response:
        await response.read()
        if response.status != 200:
            raise RuntimeError(f"{path.name}: HTTP {response.status}")
    return time.perf_counter() - start


async def first_token(session: aiohttp.ClientSession, path: Path_, body: bytes) -> float:
    start = time.perf_counter()
    seen = b""
    elapsed = None
    async with session.post(path.url, data=body, headers=path.headers) as response:
        async for chunk in response.content.iter_any():
            if elapsed is None:
                seen += chunk
                if path.first_token.search(seen):
                    elapsed = time.perf_counter() - start
    if elapsed is None:
        raise RuntimeError(f"{path.name}: no content in the stream")
    return elapsed


async def client_choice(url: str, ca: Path, count: int) -> dict[str, Any]:
    """Per upstream HTTP client: p50/p99 of one request at a time to the simulator, and the
    CPU time this process spent per request (``time.process_time``)."""
    body = openai_body(OPENAI_MODEL)(False, "")
    headers = {"authorization": "Bearer sk-bench", "content-type": "application/json"}
    context = ssl.create_default_context(cafile=str(ca))
    h1 = H1Transport(ca_bundle=ca, connect_timeout=10, read_timeout=60, max_connections=4)
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=context))
    client = httpx.AsyncClient(verify=context)

    async def with_h1() -> None:
        reply = await h1.post(url, headers, body)
        await reply.read()
        reply.close()

    async def with_aiohttp() -> None:
        async with session.post(url, data=body, headers=headers) as response:
            await response.read()

    async def with_httpx() -> None:
        (await client.post(url, content=body, headers=headers)).read()

    out: dict[str, Any] = {}
    try:
        for name, call in (
            ("enclave h1", with_h1),
            ("aiohttp", with_aiohttp),
            ("httpx", with_httpx),
        ):
            samples = []
            cpu = 0.0
            for i in range(count + count // 10):
                start, cpu_start = time.perf_counter(), time.process_time()
                await call()
                if i >= count // 10:
                    samples.append(time.perf_counter() - start)
                    cpu += time.process_time() - cpu_start
            out[name] = percentiles(samples) | {"cpu_us": cpu / count * 1e6}
    finally:
        await h1.close()
        await session.close()
        await client.aclose()
    return out


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": statistics.median(ordered) * 1000,
        "p99_ms": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000,
        "n": len(ordered),
    }


async def alternate(
    pair: tuple[Path_, Path_],
    sessions: tuple[aiohttp.ClientSession, aiohttp.ClientSession],
    measure: Callable[[aiohttp.ClientSession, Path_, bytes], Awaitable[float]],
    *,
    stream: bool,
    count: int,
) -> dict[str, dict[str, float]]:
    samples: tuple[list[float], list[float]] = ([], [])
    for i in range(count + count // 10):
        for side in (i % 2, 1 - i % 2):  # alternate which path goes first
            path = pair[side]
            value = await measure(sessions[side], path, path.body(stream, ""))
            if i >= count // 10:  # the first tenth warms up connections and caches
                samples[side].append(value)
    return {pair[0].name: percentiles(samples[0]), pair[1].name: percentiles(samples[1])}


async def throughput(path: Path_, *, clients: int, duration: float, ca: Path) -> Result:
    """``clients`` keep-alive connections in a closed loop (``bench.loadgen``), upstream 50 ms."""
    return await run_load(
        path.url,
        path.body(False, " [[sim:latency_ms=50]]"),
        headers=path.headers,
        concurrency=clients,
        duration=duration,
        warmup=1.0,
        cafile=str(ca),
    )


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` so far (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def run(
    args: argparse.Namespace, sim_url: str, enclave_url: str, enclave_pid: int, ca: Path
) -> dict[str, Any]:
    context = ssl.create_default_context(cafile=str(ca))
    direct_openai = Path_(
        "direct", sim_url + "/v1/chat/completions",
        {"authorization": "Bearer sk-bench", "content-type": "application/json"},
        openai_body(OPENAI_MODEL), FIRST_OPENAI_CONTENT,
    )  # fmt: skip
    via_openai = Path_(
        "enclave", enclave_url + "/v1/chat/completions", {"content-type": "application/json"},
        openai_body(OPENAI_MODEL), FIRST_OPENAI_CONTENT,
    )  # fmt: skip
    direct_anthropic = Path_(
        "direct", sim_url + "/v1/messages",
        {"x-api-key": "sk-bench", "anthropic-version": "2023-06-01",
         "content-type": "application/json"},
        anthropic_body, re.compile(rb'"text_delta","text":"[^"]'),
    )  # fmt: skip
    via_anthropic = Path_(
        "enclave", enclave_url + "/v1/chat/completions", {"content-type": "application/json"},
        openai_body(ANTHROPIC_MODEL), FIRST_OPENAI_CONTENT,
    )  # fmt: skip
    results: dict[str, Any] = {"cpus": os.cpu_count(), "requests": args.requests}

    def sessions(limit: int) -> tuple[aiohttp.ClientSession, aiohttp.ClientSession]:
        return (
            aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=context, limit=limit)),
            aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=limit)),
        )

    pair = sessions(1)
    try:
        for dialect, paths in (
            ("openai", (direct_openai, via_openai)),
            ("anthropic", (direct_anthropic, via_anthropic)),
        ):
            for key, measure, stream, count in (
                (f"latency_{dialect}", timed, False, args.requests),
                (f"ttft_{dialect}", first_token, True, args.requests // 4),
            ):
                before = cpu_seconds(enclave_pid)
                results[key] = await alternate(paths, pair, measure, stream=stream, count=count)
                spent = cpu_seconds(enclave_pid) - before
                results[key]["enclave_cpu_us"] = spent / (count + count // 10) * 1e6
    finally:
        for session in pair:
            await session.close()
    results["client_choice"] = await client_choice(direct_openai.url, ca, args.requests // 2)
    clients, duration = args.clients, args.duration
    direct = await throughput(direct_openai, clients=clients, duration=duration, ca=ca)
    via = await throughput(via_openai, clients=clients, duration=duration, ca=ca)
    results["throughput"] = {
        "clients": args.clients,
        "upstream_latency_ms": 50,
        "direct": direct.summary(),
        "enclave": via.summary(),
        "direct_rps": direct.rate,
        "enclave_rps": via.rate,
        "ratio": via.rate / direct.rate,
    }
    return results


def report(results: dict[str, Any]) -> str:
    lines = [
        "| measurement | direct p50 | enclave p50 | overhead p50 "
        "| direct p99 | enclave p99 | overhead p99 | enclave CPU/request |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for key, label in (
        ("latency_openai", "latency, OpenAI dialect (c=1)"),
        ("latency_anthropic", "latency, Anthropic dialect (c=1)"),
        ("ttft_openai", "time to first token, OpenAI stream"),
        ("ttft_anthropic", "time to first token, Anthropic stream"),
    ):
        d, e = results[key]["direct"], results[key]["enclave"]
        lines.append(
            f"| {label} | {d['p50_ms']:.3f} ms | {e['p50_ms']:.3f} ms | "
            f"{e['p50_ms'] - d['p50_ms']:+.3f} ms | {d['p99_ms']:.3f} ms | "
            f"{e['p99_ms']:.3f} ms | {e['p99_ms'] - d['p99_ms']:+.3f} ms | "
            f"{results[key]['enclave_cpu_us']:.0f} µs |"
        )
    t = results["throughput"]
    c = results["client_choice"]
    lines.append("")
    lines.append("Upstream HTTP client, one request at a time to the simulator (TLS):")
    for name, row in c.items():
        lines.append(
            f"- {name}: p50 {row['p50_ms']:.3f} ms, p99 {row['p99_ms']:.3f} ms, "
            f"{row['cpu_us']:.0f} µs CPU per request"
        )
    lines.append("")
    lines.append(
        f"Throughput, {t['clients']} clients, upstream {t['upstream_latency_ms']} ms: direct "
        f"{t['direct_rps']:.0f} req/s, through the enclave {t['enclave_rps']:.0f} req/s "
        f"({100 * t['ratio']:.1f}%)."
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="samples per path (c=1)")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per throughput run")
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    args = parser.parse_args(argv)
    if args.quick:
        args.requests, args.duration = 200, 2.0
    with tempfile.TemporaryDirectory(prefix="veritee-bench-") as tmp:
        workdir = Path(tmp)
        tls = self_signed(workdir / "tls")
        assert tls.ca is not None
        with start_subprocess(SimSettings(seed="bench"), tls=tls) as sim:
            enclave, enclave_url = start_enclave(workdir, sim.base_url, tls.ca)
            try:
                results = uvloop.run(run(args, sim.base_url, enclave_url, enclave.pid, tls.ca))
            finally:
                enclave.terminate()
                enclave.wait(30)
    print(report(results))
    out = ROOT / "bench" / "results" / "enclave.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
