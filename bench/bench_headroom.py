"""Is the load generator ever the bottleneck? It against a server that does nothing.

A trivial HTTP/1.1 server (``httptools`` on uvloop, a canned 200 for every request) runs
on the system-under-test CPUs; the load generator, in its own process on the world CPUs,
drives it with 64 keep-alive connections. The generator's rate, its CPU time per request
and its utilisation of its core show how much load one core of it can offer: the rates the
proxies reach elsewhere in this run are compared with it in the throughput section.

    python -m bench.bench_headroom --serve PORT   # the trivial server alone
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time

import httptools

from bench.cpu import LAYOUT, cpu_seconds, pinned
from bench.loadgen import Load
from bench.probe import chat_body
from bench.stacks import free_port
from bench.stats import Spread, table
from bench.suite import Context, Options, Section
from veritee.upstream_sim import new_event_loop

TITLE = "Load generator headroom"
ORDER = 10
CONCURRENCY = 64
REPLY = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}"


def budget(options: Options) -> float:
    return 4 if options.quick else 25


class _Trivial(asyncio.Protocol):
    def __init__(self) -> None:
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.parser.feed_data(data)

    def on_message_complete(self) -> None:
        if self.transport is not None:
            self.transport.write(REPLY)


def serve(port: int) -> None:
    loop = new_event_loop()
    server = loop.run_until_complete(loop.create_server(_Trivial, "127.0.0.1", port))
    print("ready", flush=True)
    try:
        loop.run_forever()
    finally:
        server.close()


def run(ctx: Context) -> Section:
    port = free_port()
    with pinned(LAYOUT.sut):
        server = subprocess.Popen(
            [sys.executable, "-m", "bench.bench_headroom", "--serve", str(port)],
            stdout=subprocess.PIPE,
        )
    try:
        assert server.stdout is not None
        server.stdout.readline()
        load = Load(f"http://127.0.0.1:{port}/", chat_body(stream=False), CONCURRENCY)
        seconds, runs, warmup = ctx.pick(4.0, 0.5), ctx.pick(3, 1), ctx.pick(0.5, 0.2)
        rows = []
        for _ in range(runs):
            before = cpu_seconds(server.pid)
            started = time.monotonic()
            (result,) = ctx.loadgen().run([load], duration=seconds, warmup=warmup)
            wall = time.monotonic() - started
            server_cpu = (cpu_seconds(server.pid) - before) / wall
            rows.append((result.rate, result.loadgen_cpu_seconds / wall,
                         result.loadgen_cpu_seconds / max(1, result.total) * 1e6, server_cpu))  # fmt: skip
    finally:
        server.terminate()
        server.wait(10)
    rate, util, us, server_util = (Spread.of([r[i] for r in rows]) for i in range(4))
    capacity = 1e6 / us.median
    ctx.data["loadgen_capacity"] = capacity
    body = table(
        ["", "requests/s", "generator CPU", "generator CPU per request", "server CPU"],
        [["trivial server, 64 connections", rate.fmt(",.0f"), f"{util.median:.0%} of a core",
          us.fmt(".1f", " µs"), f"{server_util.median:.0%} of a core"]],
    )  # fmt: skip
    text = f"""The load generator (`bench/loadgen.py`: closed loop, keep-alive connections, requests
built once, replies parsed by the C parser of `httptools` on uvloop) runs in a process of its
own, pinned to the world CPU; the trivial server (a canned reply, nothing else) runs on the
system-under-test CPU. {runs} run(s) of {seconds:g} s:

{body}

At {us.median:.1f} µs of its own CPU per request, one core of the generator can offer about
**{capacity:,.0f} requests/s**: enough to saturate servers on both cores of this machine
many times over. Neither side is busy in this test: at this rate both wait mostly on the
loopback round trips and on their turn on a core shared with other jobs, which is why the
generator's CPU per request, not its rate here, is the measure of its capacity. The
throughput section compares the highest rate any path reached with this capacity, and
prints the generator's utilisation during every slice.
"""
    return Section(TITLE, text, data={"rate": rate.to_dict(), "us_per_request": us.to_dict(),
                                      "utilisation": util.to_dict(), "capacity": capacity})  # fmt: skip


if __name__ == "__main__":
    serve(int(sys.argv[sys.argv.index("--serve") + 1]))
