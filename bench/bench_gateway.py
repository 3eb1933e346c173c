"""What the gateway and the enclave add over calling the upstream directly.

One run starts, each in its own process: the upstream simulator (TLS, as a provider
would be), one enclave (``veritee enclave serve``, simulated SEV-SNP, signing every
exchange) and the gateway (``veritee gateway serve``: admission by verification, receipt
verification, SQLite store with durable commits, JSON request log). The load generator
(``bench.loadgen``: closed loop, keep-alive, pre-built requests, the C HTTP parser on
uvloop) runs in this process and measures the same request two ways, side by side:

- ``direct``: straight to the simulator over TLS;
- ``enclave``: to the enclave alone (which signs and goes to the simulator), to tell the
  enclave's share from the gateway's;
- ``gateway``: to the gateway, which goes to the enclave, which goes to the simulator.

Scenarios (each with ``--duration`` seconds of measurement after a warm-up):

- ``c1``: one client, no upstream latency: the latency the path adds (p50, p99);
- ``c64-50ms``: 64 clients, 50 ms upstream latency: throughput through the gateway as a
  share of direct throughput;
- ``stream-c1``: one client, streamed: time to first byte of the stream (first token);
- ``steady``: 64 clients, 50 ms, for ``--steady`` seconds (600 for the documented figure):
  RSS of the gateway and the enclave sampled every few seconds.

The load generator must not be the bottleneck: each row records its CPU use (user +
system time of this process over the measured time), and ``direct`` at ``c64-50ms`` must
reach 64 / 0.05 = 1280 requests/s.

    python -m bench.bench_gateway [--duration 10] [--steady 600] [--synchronous full|normal]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import resource
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from bench.loadgen import Result, run_load
from gateway.settings import StoreSettings
from gateway.store import ApiKeyRecord, open_store
from gateway.store.base import Store
from gateway.tenants.keys import generate_key, generate_key_id, hash_key
from veritee.upstream_sim import SimSettings, new_event_loop, start_subprocess

RESULTS = Path(__file__).parent / "results"
MODEL = "gpt-bench"
MEASUREMENT = "42" * 48


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _wait_http(url: str, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{url}: the process exited with {proc.returncode}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} never became ready")


def _spawn(args: list[str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen([sys.executable, "-m", "veritee", *args], stdout=out, stderr=out)


@contextmanager
def stack(directory: Path, synchronous: str, transport: str = "h1") -> Iterator[dict[str, Any]]:
    """Simulator, enclave and gateway, each in its own process; yields their addresses."""
    sim = start_subprocess(SimSettings(), self_signed_dir=directory / "tls")
    procs: list[subprocess.Popen[bytes]] = []
    try:
        ca = sim.endpoint.ca_path
        amd = directory / "amd"
        enclave_port, gateway_port = _free_port(), _free_port()
        (directory / "enclave.toml").write_text(
            f"""[server]\nport = {enclave_port}\n
[identity]\nimage_digest = "sha256:{"ab" * 32}"\n
[attestation]\nprovider = "simulated-sev-snp"\nstate_dir = "{amd}"\nmeasurement = "{MEASUREMENT}"\n
[upstream]\nca_bundle = "{ca}"\n
[[upstreams]]\nname = "sim"\ndialect = "openai"\nbase_url = "{sim.openai_base_url}"
api_key = "sk-bench"\nmodels = ["{MODEL}"]\n"""
        )
        enclave = _spawn(["enclave", "serve", "--config", str(directory / "enclave.toml")],
                         directory / "enclave.log")  # fmt: skip
        procs.append(enclave)
        _wait_http(f"http://127.0.0.1:{enclave_port}/readyz", enclave)
        (directory / "policy.toml").write_text(
            f'[policy]\nplatforms = ["sev-snp"]\n[sev-snp]\nmeasurements = ["{MEASUREMENT}"]\n'
        )
        store_url = f"sqlite:///{directory / 'gateway.db'}"
        (directory / "gateway.toml").write_text(
            f"""[server]\nport = {gateway_port}\n
[[enclaves]]\nname = "e1"\nurl = "http://127.0.0.1:{enclave_port}"\n
[attestation]\npolicy = "{directory / "policy.toml"}"\nroots = ["{amd}"]\n
[store]\nurl = "{store_url}"\nsqlite_synchronous = "{synchronous}"\n
[enclave_client]\nimplementation = "{transport}"\n"""
        )
        key = generate_key()
        record = ApiKeyRecord(generate_key_id(), "bench", hash_key(key), int(time.time() * 1000))
        asyncio.run(_add_key(StoreSettings(url=store_url), record))
        gateway = _spawn(["gateway", "serve", "--config", str(directory / "gateway.toml")],
                         directory / "gateway.log")  # fmt: skip
        procs.append(gateway)
        _wait_http(f"http://127.0.0.1:{gateway_port}/readyz", gateway)
        yield {
            "direct": sim.openai_base_url + "/chat/completions",
            "enclave": f"http://127.0.0.1:{enclave_port}/v1/chat/completions",
            "gateway": f"http://127.0.0.1:{gateway_port}/v1/chat/completions",
            "cafile": str(ca),
            "key": key,
            "pids": {"gateway": gateway.pid, "enclave": enclave.pid, "sim": sim.process.pid},
        }
    finally:
        for proc in reversed(procs):
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
        sim.stop()


async def _add_key(settings: StoreSettings, record: ApiKeyRecord) -> None:
    store: Store = open_store(settings)
    await store.open()
    try:
        await store.add_key(record)
    finally:
        await store.close()


def _body(*, stream: bool, latency_ms: int) -> bytes:
    marker = f" [[sim:latency_ms={latency_ms}]]" if latency_ms else ""
    content = "Benchmark me: what is the capital of France?" + marker
    return json.dumps(
        {"model": MODEL, "stream": stream, "messages": [{"role": "user", "content": content}]}
    ).encode()


def _measure(
    target: dict[str, Any], path: str, body: bytes, concurrency: int, duration: float, warmup: float
) -> tuple[Result, float]:
    """Run the load; return the result and the load generator's CPU use (% of one core)."""
    url = target[path]
    headers = {"authorization": "Bearer " + (target["key"] if path == "gateway" else "sk-bench")}
    if path == "enclave":
        headers = {}
    pids = target["pids"]
    cpu_before = {name: _cpu_seconds(pid) for name, pid in pids.items()}
    before = resource.getrusage(resource.RUSAGE_SELF)
    loop = new_event_loop()
    try:
        result = loop.run_until_complete(
            run_load(url, body, headers=headers, concurrency=concurrency, duration=duration,
                     warmup=warmup, cafile=target["cafile"] if path == "direct" else None)
        )  # fmt: skip
    finally:
        loop.close()
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    # CPU time per completed request of each server process (warm-up included on both sides).
    result.cpu_us_per_req = {  # type: ignore[attr-defined]
        name: round((_cpu_seconds(pid) - cpu_before[name]) / max(result.total, 1) * 1e6, 1)
        for name, pid in pids.items()
    }
    return result, round(cpu / (duration + warmup) * 100, 1)


def scenario(
    target: dict[str, Any], name: str, *, stream: bool, latency_ms: int, concurrency: int,
    duration: float, warmup: float,
) -> dict[str, Any]:  # fmt: skip
    body = _body(stream=stream, latency_ms=latency_ms)
    row: dict[str, Any] = {"scenario": name, "concurrency": concurrency, "latency_ms": latency_ms}
    for path in ("direct", "enclave", "gateway"):
        result, cpu = _measure(target, path, body, concurrency, duration, warmup)
        summary = result.summary()
        summary["loadgen_cpu_pct"] = cpu
        summary["cpu_us_per_req"] = result.cpu_us_per_req  # type: ignore[attr-defined]
        row[path] = summary
    d, e, g = row["direct"], row["enclave"], row["gateway"]
    # What the gateway alone adds on top of the enclave (the enclave's own share is e - d).
    row["gateway_only_p50_ms"] = round(g["p50_ms"] - e["p50_ms"], 3)
    row["enclave_only_p50_ms"] = round(e["p50_ms"] - d["p50_ms"], 3)
    row["added_p50_ms"] = round(g["p50_ms"] - d["p50_ms"], 3)
    row["added_p99_ms"] = round(g["p99_ms"] - d["p99_ms"], 3)
    row["added_ttfb_p50_ms"] = round(g["ttfb_p50_ms"] - d["ttfb_p50_ms"], 3)
    row["throughput_ratio"] = round(g["req_per_s"] / d["req_per_s"], 3) if d["req_per_s"] else None
    print(json.dumps(row), flush=True)
    return row


def steady(target: dict[str, Any], seconds: float, sample_every: float) -> dict[str, Any]:
    """64 clients at 50 ms for ``seconds``; RSS of gateway and enclave over time (MiB)."""
    samples: list[dict[str, float]] = []
    stop = threading.Event()
    pids = target["pids"]

    def sample() -> None:
        started = time.monotonic()
        while not stop.is_set():
            samples.append({"t": round(time.monotonic() - started, 1),
                            **{n: round(_rss_mb(pids[n]), 1) for n in ("gateway", "enclave")}})  # fmt: skip
            stop.wait(sample_every)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        result, cpu = _measure(
            target, "gateway", _body(stream=False, latency_ms=50), 64, seconds, 2.0
        )
    finally:
        stop.set()
        sampler.join()
    # Compare the first samples after warm-up with the last ones: flat means no growth.
    warm = [s for s in samples if s["t"] >= min(30.0, seconds / 4)] or samples
    row = {
        "scenario": "steady", "seconds": seconds, "concurrency": 64, "latency_ms": 50,
        "gateway": {**result.summary(), "loadgen_cpu_pct": cpu},
        "rss_mb": {
            name: {"after_warmup": warm[0][name], "end": samples[-1][name],
                   "max": max(s[name] for s in samples)}
            for name in ("gateway", "enclave")
        },
        "samples": samples,
    }  # fmt: skip
    print(json.dumps({k: v for k, v in row.items() if k != "samples"}), flush=True)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description="Gateway + enclave against direct calls.")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per scenario")
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--steady", type=float, default=60.0, help="seconds of the RSS run")
    parser.add_argument("--sample-every", type=float, default=5.0)
    parser.add_argument("--synchronous", choices=["full", "normal"], default="full")
    parser.add_argument("--transport", choices=["h1", "aiohttp"], default="h1",
                        help="the gateway's client towards the enclave")  # fmt: skip
    parser.add_argument("--only", help="comma-separated scenarios (c1,c64-50ms,stream-c1,steady)")
    args = parser.parse_args()
    wanted = set(args.only.split(",")) if args.only else None
    rows: list[dict[str, Any]] = []
    with (
        tempfile.TemporaryDirectory(prefix="veritee-bench-") as tmp,
        stack(Path(tmp), args.synchronous, args.transport) as target,
    ):
        plan = [
            ("c1", {"stream": False, "latency_ms": 0, "concurrency": 1}),
            ("c64-50ms", {"stream": False, "latency_ms": 50, "concurrency": 64}),
            ("stream-c1", {"stream": True, "latency_ms": 0, "concurrency": 1}),
        ]
        for name, params in plan:
            if wanted is None or name in wanted:
                rows.append(scenario(target, name, duration=args.duration, warmup=args.warmup,
                                     **params))  # fmt: skip
        if wanted is None or "steady" in wanted:
            rows.append(steady(target, args.steady, args.sample_every))
    RESULTS.mkdir(exist_ok=True)
    meta = {
        "python": platform.python_version(), "cpus": os.cpu_count(),
        "machine": platform.machine(), "synchronous": args.synchronous,
        "transport": args.transport,
        "duration": args.duration,
    }  # fmt: skip
    out = RESULTS / f"gateway-{args.synchronous}-{args.transport}.json"
    out.write_text(json.dumps({"meta": meta, "results": rows}, indent=2))
    print(f"written to {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
