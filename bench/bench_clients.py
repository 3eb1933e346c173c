"""Why veritee has its own HTTP/1.1 clients: each candidate, one request at a time.

The enclave calls its upstream over TLS with ``enclave.upstream.h1``; the gateway calls its
enclaves over plain HTTP with ``gateway.h1_transport`` (``aiohttp`` is its alternative,
``enclave_client.implementation``). Each client sends the same chat completion to an
upstream simulator, sequentially on one keep-alive connection, from this process: the
enclave's candidates over TLS, the gateway's over plain HTTP, as each is used. The CPU time
is this process's (``time.process_time``) per request: what the client itself costs, which
a proxy pays on every request.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
import httpx

from bench.cpu import LAYOUT, pinned
from bench.probe import chat_body
from bench.stats import Spread, percentile, table
from bench.suite import Context, Options, Section
from enclave.upstream.h1 import H1Transport as EnclaveH1
from gateway.aiohttp_transport import AiohttpTransport
from gateway.h1_transport import H1Transport as GatewayH1
from veritee.upstream_sim import SimSettings, new_event_loop, start_subprocess

TITLE = "HTTP clients"
ORDER = 38
SERVERS = True

Call = Callable[[], Awaitable[None]]


def budget(options: Options) -> float:
    return 5 if options.quick else 30


async def _measure(
    url: str, ca: str, plain_url: str, count: int, runs: int
) -> dict[str, dict[str, Spread]]:
    """``url``: the simulator over TLS (trusting ``ca``); ``plain_url``: over plain HTTP."""
    body = chat_body(stream=False)
    headers = {"authorization": "Bearer sk-bench", "content-type": "application/json"}
    context = ssl.create_default_context(cafile=ca)
    enclave = EnclaveH1(ca_bundle=Path(ca), connect_timeout=10, read_timeout=60, max_connections=4)
    gateway = GatewayH1(connect_timeout=10, read_timeout=60, max_connections=4, ssl_context=context)
    gateway_aiohttp = AiohttpTransport(connect_timeout=10, read_timeout=60, max_connections=4,
                                       ssl_context=context)  # fmt: skip
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=context))
    client = httpx.AsyncClient(verify=context)

    async def with_enclave_h1() -> None:
        reply = await enclave.post(url, headers, body)
        await reply.read()
        reply.close()

    async def with_gateway(transport: GatewayH1 | AiohttpTransport) -> None:
        reply = await transport.request("POST", plain_url, body=body, headers=headers)
        await reply.read()

    async def with_aiohttp() -> None:
        async with session.post(url, data=body, headers=headers) as response:
            await response.read()

    async def with_httpx() -> None:
        (await client.post(url, content=body, headers=headers)).read()

    calls: dict[str, Call] = {
        "TLS: `enclave.upstream.h1` (the enclave's)": with_enclave_h1,
        f"TLS: aiohttp {aiohttp.__version__}": with_aiohttp,
        f"TLS: httpx {httpx.__version__}": with_httpx,
        "HTTP: `gateway.h1_transport` (the gateway's default)": lambda: with_gateway(gateway),
        "HTTP: `gateway.aiohttp_transport` (its alternative)": lambda: with_gateway(
            gateway_aiohttp
        ),
    }
    out: dict[str, dict[str, list[float]]] = {n: {"p50": [], "p99": [], "cpu": []} for n in calls}
    try:
        for call in calls.values():  # connect and warm every client first
            for _ in range(20):
                await call()
        for _ in range(runs):
            for name, call in calls.items():  # interleaved: each run, every client in turn
                wall, cpu = [], 0.0
                for _ in range(count):
                    start, cpu_start = time.perf_counter(), time.process_time()
                    await call()
                    wall.append((time.perf_counter() - start) * 1000)
                    cpu += time.process_time() - cpu_start
                out[name]["p50"].append(percentile(wall, 50))
                out[name]["p99"].append(percentile(wall, 99))
                out[name]["cpu"].append(cpu / count * 1e6)
    finally:
        await enclave.close()
        await gateway.close()
        await gateway_aiohttp.close()
        await session.close()
        await client.aclose()
    return {n: {k: Spread.of(v) for k, v in figures.items()} for n, figures in out.items()}


def run(ctx: Context) -> Section:
    direct = ctx.stacks().targets["direct"]
    assert direct.cafile is not None
    count, runs = ctx.pick(300, 20), ctx.pick(5, 1)
    with pinned(LAYOUT.world):
        plain = start_subprocess(SimSettings())
    loop = new_event_loop()
    try:
        plain_url = plain.openai_base_url + "/chat/completions"
        work = _measure(direct.url, direct.cafile, plain_url, count, runs)
        figures = loop.run_until_complete(work)
    finally:
        loop.close()
        plain.stop()
    rows = [[name, f["p50"].fmt(".3f"), f["p99"].fmt(".3f"), f["cpu"].fmt(",.0f", " µs")]
            for name, f in figures.items()]  # fmt: skip
    text = f"""{__doc__.split(chr(10) * 2, 1)[1].strip()}

{runs} run(s) of {count} requests per client, the clients interleaved run by run; the median
run (lowest-highest). Milliseconds, then CPU per request:

{table(["client", "p50", "p99", "CPU per request"], rows, "lrrr")}
"""
    data = {name: {k: v.to_dict() for k, v in f.items()} for name, f in figures.items()}
    return Section(TITLE, text, data=data)
