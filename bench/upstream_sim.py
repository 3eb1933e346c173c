"""How fast is the upstream simulator? (It must never be the bottleneck of other benchmarks.)

Starts ``veritee upstream-sim serve`` as a child pinned to CPU 0, runs the load generator
pinned to CPU 1, and prints one JSON line per scenario (also written to
``bench/results/upstream_sim.json``):

- ``max-rps``: non-streamed, no latency, 64 connections: requests/s of one simulator core.

Each row also has ``sim_cpu_us_per_req`` (the child's user+system CPU time per response,
from ``/proc``) and ``sim_req_per_cpu_s``: what one dedicated core sustains, a figure that
other processes on a shared machine do not distort.
- ``p50-c1``: non-streamed, no latency, 1 connection: the simulator's own latency.
- ``latency50-c1``: 50 ms latency, 1 connection: how exactly the latency is kept.
- ``latency50-c64``: 50 ms latency, 64 connections: should reach 64 / 0.05 = 1280 req/s.
- ``stream-c64``: streamed (about 30 chunks), no latency, 64 connections.

    python -m bench.upstream_sim [--duration 10]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
from pathlib import Path
from typing import Any

from bench.cpu import cpu_seconds, pin
from bench.loadgen import run_load
from veritee.upstream_sim import SimSettings, new_event_loop, start_subprocess

RESULTS = Path(__file__).parent / "results"
MESSAGES = [{"role": "user", "content": "Benchmark me: what is the capital of France?"}]
SCENARIOS: list[tuple[str, int, int, bool]] = [  # name, latency_ms, concurrency, stream
    ("max-rps", 0, 64, False),
    ("p50-c1", 0, 1, False),
    ("latency50-c1", 50, 1, False),
    ("latency50-c64", 50, 64, False),
    ("stream-c64", 0, 64, True),
]


def _pin(pid: int, cpu: int) -> None:
    if (os.cpu_count() or 1) > cpu:
        pin(pid, frozenset({cpu}))


def run(duration: float, warmup: float) -> list[dict[str, Any]]:
    results = []
    for name, latency, concurrency, stream in SCENARIOS:
        with start_subprocess(SimSettings(latency_ms=latency)) as sim:
            _pin(sim.process.pid, 0)
            _pin(0, 1)
            body = json.dumps({"model": "gpt-4o-mini", "messages": MESSAGES, "stream": stream})
            loop = new_event_loop()
            cpu_before = cpu_seconds(sim.process.pid)
            try:
                result = loop.run_until_complete(
                    run_load(
                        sim.openai_base_url + "/chat/completions",
                        body.encode(),
                        headers={"authorization": "Bearer bench"},
                        concurrency=concurrency,
                        duration=duration,
                        warmup=warmup,
                    )
                )
            finally:
                loop.close()
            cpu = cpu_seconds(sim.process.pid) - cpu_before
        row: dict[str, Any] = {"scenario": name, "latency_ms": latency, "concurrency": concurrency}
        row.update(result.summary())
        # Simulator CPU per request, and the rate one fully busy core would sustain.
        row["sim_cpu_us_per_req"] = round(cpu / result.total * 1e6, 1)
        row["sim_req_per_cpu_s"] = round(result.total / cpu, 0) if cpu else None
        print(json.dumps(row), flush=True)
        results.append(row)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description="Benchmark the upstream simulator.")
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    args = parser.parse_args()
    rows = run(args.duration, args.warmup)
    RESULTS.mkdir(exist_ok=True)
    meta = {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "machine": platform.machine(),
    }
    (RESULTS / "upstream_sim.json").write_text(
        json.dumps({"meta": meta, "results": rows}, indent=2)
    )


if __name__ == "__main__":
    main()
