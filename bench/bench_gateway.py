"""What the gateway and the enclave add over calling the upstream directly.

One run starts, each in its own process: the upstream simulator (TLS, as a provider
would be), one enclave (``veritee enclave serve``, simulated SEV-SNP, signing every
exchange) and the gateway (``veritee gateway serve``: admission by verification, receipt
verification, the SQLite store with durable commits, the JSON request log). Every scenario
measures three paths, side by side in the same run:

- ``direct``: straight to the simulator over TLS;
- ``enclave``: to the enclave alone (which signs and calls the simulator), which tells the
  enclave's share from the gateway's;
- ``gateway``: to the gateway, which calls the enclave, which calls the simulator.

Scenarios:

- ``c1``: one client, no upstream latency; the paths take turns request by request
  (rotating which goes first), so that load from elsewhere on the machine falls on all
  three alike. Latency p50/p99 and what the gateway + enclave add.
- ``stream-c1``: the same, streamed: time to the first body byte (the first token).
- ``c64-50ms``: 64 clients, 50 ms upstream latency, in turns of ``--slice`` seconds per
  path: throughput through the gateway as a share of direct throughput.
- ``steady``: 64 clients at 50 ms through the gateway for ``--steady`` seconds (600 for the
  documented figure): RSS of the gateway and the enclave, sampled every few seconds.

The load generator must not be the bottleneck. Under load it is ``bench.loadgen`` (closed
loop, keep-alive, pre-built requests, the C parser of ``httptools`` on uvloop) and each row
records its CPU use (user + system time of this process); ``direct`` at ``c64-50ms`` should
reach 64 / 0.05 = 1280 requests/s. The latency client is a blocking socket, one request at a
time, parsed by ``httptools``: the same small cost on every path.

    python -m bench.bench_gateway [--samples 2000] [--duration 30] [--steady 600]
                                  [--synchronous full|normal] [--transport h1|aiohttp]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import resource
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httptools
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
[attestation]\nprovider = "simulated-sev-snp"\nstate_dir = "{amd}"\n
[attestation.options]\nmeasurement = "{MEASUREMENT}"\n
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


class _Conn:
    """One keep-alive connection driven by blocking calls: for latency, one request at a time.

    The request bytes are built once; the reply is parsed by ``httptools``. It records the
    time to the first body byte (the first token of a stream) and to the end.
    """

    def __init__(self, url: str, body: bytes, headers: dict[str, str], cafile: str | None):
        parts = urlsplit(url)
        host, port = parts.hostname or "127.0.0.1", parts.port or 80
        raw = socket.create_connection((host, port))
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if parts.scheme == "https":
            raw = ssl.create_default_context(cafile=cafile).wrap_socket(raw, server_hostname=host)
        self.sock = raw
        head = [f"POST {parts.path} HTTP/1.1", f"host: {parts.netloc}",
                "content-type: application/json", f"content-length: {len(body)}",
                *(f"{k}: {v}" for k, v in headers.items())]  # fmt: skip
        self.request = ("\r\n".join(head) + "\r\n\r\n").encode() + body
        self.first = 0.0
        self.done = False
        self.status = 0
        self.parser = httptools.HttpResponseParser(self)

    def on_body(self, _body: bytes) -> None:
        if not self.first:
            self.first = time.perf_counter()

    def on_message_complete(self) -> None:
        self.done = True

    def once(self) -> tuple[float, float]:
        """One exchange: (ms to the first body byte, ms to the end)."""
        self.first, self.done = 0.0, False
        started = time.perf_counter()
        self.sock.sendall(self.request)
        while not self.done:
            data = self.sock.recv(65536)
            if not data:
                raise RuntimeError("the server closed the connection")
            self.parser.feed_data(data)
        ended = time.perf_counter()
        if self.parser.get_status_code() != 200:
            raise RuntimeError(f"HTTP {self.parser.get_status_code()}")
        return (self.first - started) * 1000, (ended - started) * 1000


def _percentile(values: list[float], p: float) -> float:
    data = sorted(values)
    return round(data[min(len(data) - 1, int(p / 100 * len(data)))], 3)


def alternate(target: dict[str, Any], name: str, *, stream: bool, samples: int) -> dict[str, Any]:
    """One client; the three paths take turns request by request (rotating who goes first),
    so that load from elsewhere on the machine falls on all of them alike."""
    body = _body(stream=stream, latency_ms=0)
    conns = {
        path: _Conn(target[path], body, _auth(target, path), target["cafile"]) for path in PATHS
    }
    first: dict[str, list[float]] = {p: [] for p in PATHS}
    total: dict[str, list[float]] = {p: [] for p in PATHS}
    cpu_before = {n: _cpu_seconds(pid) for n, pid in target["pids"].items()}
    warmup = max(50, samples // 10)
    for i in range(samples + warmup):
        order = PATHS[i % 3 :] + PATHS[: i % 3]
        for path in order:
            ttfb, end = conns[path].once()
            if i >= warmup:
                first[path].append(ttfb)
                total[path].append(end)
    cpu = {n: round((_cpu_seconds(pid) - cpu_before[n]) / (samples + warmup) * 1e6, 1)
           for n, pid in target["pids"].items()}  # fmt: skip
    row: dict[str, Any] = {"scenario": name, "concurrency": 1, "samples": samples}
    for path in PATHS:
        row[path] = {
            "p50_ms": _percentile(total[path], 50), "p99_ms": _percentile(total[path], 99),
            "ttfb_p50_ms": _percentile(first[path], 50), "ttfb_p99_ms": _percentile(first[path], 99),
        }  # fmt: skip
    # CPU time of each process per round (one request on each path): for the gateway, the
    # CPU of one request through it; for the enclave and the simulator, of two or three.
    row["cpu_us_per_round"] = cpu
    d, e, g = (row[p] for p in PATHS)
    for key in ("p50_ms", "p99_ms", "ttfb_p50_ms", "ttfb_p99_ms"):
        row[f"added_{key}"] = round(g[key] - d[key], 3)  # gateway + enclave + signing
        row[f"gateway_only_{key}"] = round(g[key] - e[key], 3)
        row[f"enclave_only_{key}"] = round(e[key] - d[key], 3)
    print(json.dumps(row), flush=True)
    return row


PATHS = ("direct", "enclave", "gateway")


def _auth(target: dict[str, Any], path: str) -> dict[str, str]:
    if path == "enclave":
        return {}
    return {"authorization": "Bearer " + (target["key"] if path == "gateway" else "sk-bench")}


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
    headers = _auth(target, path)
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


def throughput(
    target: dict[str, Any], *, concurrency: int, latency_ms: int, duration: float, slice_s: float
) -> dict[str, Any]:
    """``concurrency`` clients; the paths take turns in slices of ``slice_s`` seconds."""
    body = _body(stream=False, latency_ms=latency_ms)
    runs: dict[str, list[tuple[Result, float, dict[str, float]]]] = {p: [] for p in PATHS}
    for _ in range(max(1, round(duration / slice_s))):
        for path in PATHS:
            result, cpu = _measure(target, path, body, concurrency, slice_s, 1.0)
            runs[path].append((result, cpu, result.cpu_us_per_req))  # type: ignore[attr-defined]
    row: dict[str, Any] = {"scenario": f"c{concurrency}-{latency_ms}ms",
                           "concurrency": concurrency, "latency_ms": latency_ms}  # fmt: skip
    for path in PATHS:
        done = sum(r.requests for r, _, _ in runs[path])
        seconds = sum(r.seconds for r, _, _ in runs[path])
        latencies = [x for r, _, _ in runs[path] for x in r.latencies]
        row[path] = {
            "req_per_s": round(done / seconds, 1), "errors": sum(r.errors for r, _, _ in runs[path]),
            "p50_ms": _percentile(latencies, 50), "p99_ms": _percentile(latencies, 99),
            "loadgen_cpu_pct": max(c for _, c, _ in runs[path]),
            "cpu_us_per_req": {n: round(sum(c[n] for _, _, c in runs[path]) / len(runs[path]), 1)
                               for n in target["pids"]},
        }  # fmt: skip
    row["throughput_ratio"] = round(row["gateway"]["req_per_s"] / row["direct"]["req_per_s"], 3)
    row["enclave_ratio"] = round(row["enclave"]["req_per_s"] / row["direct"]["req_per_s"], 3)
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
    parser.add_argument("--samples", type=int, default=2000, help="latency samples per path")
    parser.add_argument("--duration", type=float, default=30.0,
                        help="seconds of throughput measurement per path")  # fmt: skip
    parser.add_argument("--slice", type=float, default=3.0,
                        help="seconds per turn when the paths alternate under load")  # fmt: skip
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
        if wanted is None or "c1" in wanted:
            rows.append(alternate(target, "c1", stream=False, samples=args.samples))
        if wanted is None or "stream-c1" in wanted:
            rows.append(alternate(target, "stream-c1", stream=True, samples=args.samples))
        if wanted is None or "c64-50ms" in wanted:
            rows.append(throughput(target, concurrency=64, latency_ms=50,
                                   duration=args.duration, slice_s=args.slice))  # fmt: skip
        if wanted is None or "steady" in wanted:
            rows.append(steady(target, args.steady, args.sample_every))
    RESULTS.mkdir(exist_ok=True)
    meta = {
        "python": platform.python_version(), "cpus": os.cpu_count(),
        "machine": platform.machine(), "synchronous": args.synchronous,
        "transport": args.transport,
        "duration": args.duration, "samples": args.samples,
    }  # fmt: skip
    out = RESULTS / f"gateway-{args.synchronous}-{args.transport}.json"
    out.write_text(json.dumps({"meta": meta, "results": rows}, indent=2))
    print(f"written to {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
