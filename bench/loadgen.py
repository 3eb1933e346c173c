"""A small keep-alive HTTP/1.1 load generator: N connections, each sends its next request as
soon as the previous response is complete (closed loop), for a fixed duration.

It pre-builds the request bytes and parses responses with the C parser of ``httptools`` on
uvloop, so that on one core it outruns the servers it measures (``bench_headroom`` checks
this). It counts the responses that complete inside the measured window, whenever they
were sent, so a slow server's rate is not under-counted, and records for each the latency
to the first body byte and to the last one. :class:`Worker` runs it in a process of its own,
pinned, and reports the CPU time it used.

    python -m bench.loadgen URL --body '{"model": ...}' --concurrency 64 --duration 10
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import resource
import ssl
import statistics
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from urllib.parse import urlsplit

import httptools

from veritee.upstream_sim import new_event_loop


@dataclass
class Result:
    """What a run measured. Latencies are in milliseconds."""

    requests: int
    errors: int
    seconds: float
    total: int  # every completed response, warm-up and drain included
    latencies: list[float] = field(repr=False)
    first_byte: list[float] = field(repr=False)
    loadgen_cpu_seconds: float = 0.0  # set by Worker: the generator's own CPU time (all loads)

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    def percentile(self, p: float, values: list[float] | None = None) -> float:
        data = sorted(self.latencies if values is None else values)
        if not data:
            return float("nan")
        return data[min(len(data) - 1, int(p / 100 * len(data)))]

    def summary(self) -> dict[str, float]:
        return {
            "requests": self.requests,
            "errors": self.errors,
            "req_per_s": round(self.rate, 1),
            "p50_ms": round(self.percentile(50), 3),
            "p99_ms": round(self.percentile(99), 3),
            "mean_ms": round(statistics.fmean(self.latencies), 3) if self.latencies else 0.0,
            "ttfb_p50_ms": round(self.percentile(50, self.first_byte), 3),
        }


class _Client(asyncio.Protocol):
    def __init__(self, run: _Run) -> None:
        self.run = run
        self.parser = httptools.HttpResponseParser(self)
        self.transport: asyncio.Transport | None = None
        self.started = self.first = 0.0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.send()

    def send(self) -> None:
        if self.run.stopping or self.transport is None:
            self.run.idle(self)
            return
        self.started, self.first = time.perf_counter(), 0.0
        self.transport.write(self.run.request)

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            self.run.errors += 1
            if self.transport:
                self.transport.close()

    def on_body(self, body: bytes) -> None:
        if not self.first:
            self.first = time.perf_counter()

    def on_message_complete(self) -> None:
        self.run.record(self, self.parser.get_status_code())
        self.send()

    def connection_lost(self, exc: Exception | None) -> None:
        self.run.idle(self)


class _Run:
    def __init__(self, request: bytes, measure_from: float) -> None:
        self.request = request
        self.measure_from = measure_from
        self.stopping = False
        self.stop_at = float("inf")
        self.latencies: list[float] = []
        self.first_byte: list[float] = []
        self.errors = 0
        self.total = 0
        self.active: set[_Client] = set()
        self.done = asyncio.get_running_loop().create_future()

    def record(self, client: _Client, status: int) -> None:
        now = time.perf_counter()
        self.total += 1
        if now < self.measure_from or now > self.stop_at:
            return  # during warm-up, or drained after the end
        if status != 200:
            self.errors += 1
            return
        self.latencies.append((now - client.started) * 1000)
        self.first_byte.append(((client.first or now) - client.started) * 1000)

    def idle(self, client: _Client) -> None:
        self.active.discard(client)
        if self.stopping and not self.active and not self.done.done():
            self.done.set_result(None)


async def run_load(
    url: str,
    body: bytes,
    *,
    headers: dict[str, str] | None = None,
    concurrency: int = 1,
    duration: float = 5.0,
    warmup: float = 1.0,
    cafile: str | None = None,
) -> Result:
    """POST ``body`` to ``url`` from ``concurrency`` keep-alive connections for ``duration``."""
    parts = urlsplit(url)
    host, port = (
        parts.hostname or "127.0.0.1",
        parts.port or (443 if parts.scheme == "https" else 80),
    )
    lines = [f"POST {parts.path or '/'} HTTP/1.1", f"host: {parts.netloc}"]
    lines += [
        f"{k}: {v}" for k, v in {"content-type": "application/json", **(headers or {})}.items()
    ]
    lines.append(f"content-length: {len(body)}")
    request = ("\r\n".join(lines) + "\r\n\r\n").encode() + body
    context = ssl.create_default_context(cafile=cafile) if parts.scheme == "https" else None
    loop = asyncio.get_running_loop()
    start = time.perf_counter()
    run = _Run(request, start + warmup)
    for _ in range(concurrency):
        client = _Client(run)
        run.active.add(client)
        await loop.create_connection(lambda c=client: c, host, port, ssl=context)  # type: ignore[misc]
    await asyncio.sleep(warmup + duration - (time.perf_counter() - start))
    run.stop_at = time.perf_counter()
    measured = run.stop_at - run.measure_from
    run.stopping = True
    await asyncio.wait_for(run.done, 30)
    for client in list(run.active):
        if client.transport:
            client.transport.close()
    return Result(
        len(run.latencies), run.errors, measured, run.total, run.latencies, run.first_byte
    )


@dataclass(frozen=True)
class Load:
    """One load to apply: ``concurrency`` connections POSTing ``body`` to ``url``."""

    url: str
    body: bytes
    concurrency: int
    headers: dict[str, str] = field(default_factory=dict)
    cafile: str | None = None


class Worker:
    """The load generator in a process of its own, pinned to ``cpus``, reused across runs.

    ``run`` applies one or more loads at the same time and returns their results, each with
    ``loadgen_cpu_seconds``: the worker's user + system CPU time over the whole run.
    """

    def __init__(self, cpus: frozenset[int]) -> None:
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(target=_serve, args=(child, cpus), daemon=True)
        self._process.start()
        child.close()

    def run(self, loads: list[Load], *, duration: float, warmup: float) -> list[Result]:
        self._conn.send((loads, duration, warmup))
        reply = self._conn.recv()
        if isinstance(reply, BaseException):
            raise reply
        results: list[Result] = reply
        return results

    def close(self) -> None:
        if self._process.is_alive():
            self._conn.send(None)
            self._process.join(10)
        if self._process.is_alive():
            self._process.kill()
        self._conn.close()


async def _gather(loads: list[Load], duration: float, warmup: float) -> list[Result]:
    runs = [
        run_load(load.url, load.body, headers=load.headers, concurrency=load.concurrency,
                 duration=duration, warmup=warmup, cafile=load.cafile)
        for load in loads
    ]  # fmt: skip
    return list(await asyncio.gather(*runs))


def _serve(conn: Connection, cpus: frozenset[int]) -> None:
    import os

    os.sched_setaffinity(0, cpus)
    while (job := conn.recv()) is not None:
        loads, duration, warmup = job
        loop = new_event_loop()
        before = resource.getrusage(resource.RUSAGE_SELF)
        try:
            results = loop.run_until_complete(_gather(loads, duration, warmup))
        except Exception as exc:
            conn.send(exc)
            continue
        finally:
            loop.close()
        after = resource.getrusage(resource.RUSAGE_SELF)
        cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
        for result in results:
            result.loadgen_cpu_seconds = cpu
        conn.send(list(results))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url")
    parser.add_argument("--body", required=True, help="JSON request body")
    parser.add_argument("--header", action="append", default=[], help="'name: value'")
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--cafile")
    args = parser.parse_args()
    headers = dict(h.split(": ", 1) for h in args.header)
    loop = new_event_loop()
    result = loop.run_until_complete(
        run_load(
            args.url,
            args.body.encode(),
            headers=headers,
            concurrency=args.concurrency,
            duration=args.duration,
            warmup=args.warmup,
            cafile=args.cafile,
        )
    )
    print(json.dumps(result.summary()))


if __name__ == "__main__":
    main()
