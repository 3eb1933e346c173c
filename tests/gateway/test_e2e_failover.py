"""Losing an enclave under load, with everything in its own process as in production.

Two ``veritee enclave serve`` processes, one ``veritee gateway serve`` process, a tenant
made with ``veritee gateway tenant add``. One enclave is killed (SIGKILL) while streams are
in flight on both and requests keep coming: requests that had not started streaming
succeed through the other enclave, streams cut on the dead one end with a clear error,
and no successful answer is ever without a verified receipt. A stream the upstream cuts
ends with an error and a ``truncated`` receipt. The enclave, restarted with a new key,
is verified again and readmitted.
"""

from __future__ import annotations

import asyncio
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import orjson
import pytest

from tests.gateway import stack
from tests.gateway.stack import MODEL, REPO, Spawned
from transcript.receipt import parse_receipt, parse_receipt_header
from veritee.upstream_sim import ThreadedSim


@pytest.fixture
def spawned() -> Iterator[list[Spawned]]:
    processes: list[Spawned] = []
    yield processes
    for process in reversed(processes):
        process.stop()


def cli_tenant(config_path: Path, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "veritee", "gateway", "tenant", "add", "--config", str(config_path),
         *args], capture_output=True, text=True, cwd=REPO, check=True,
    )  # fmt: skip
    return done.stdout.strip()


async def open_held_stream(
    client: httpx.AsyncClient, key: str, token: str
) -> tuple[str, httpx.Response, Any]:
    """A stream the simulator holds after its first chunk; returns once that chunk is in."""
    body = {"model": MODEL, "stream": True,
            "messages": [{"role": "user", "content": f"hold on [[sim:hold={token},chunks=3]]"}]}  # fmt: skip
    request = client.build_request(
        "POST", "/v1/chat/completions", json=body, headers={"authorization": f"Bearer {key}"}
    )
    response = await client.send(request, stream=True)
    assert response.status_code == 200
    chunks = response.aiter_bytes()
    first = await anext(chunks)
    assert first.startswith(b"data: ")
    return response.headers["x-veritee-enclave"], response, chunks


async def rest_of(chunks: Any) -> bytes:
    return b"".join([chunk async for chunk in chunks])


def test_kill_an_enclave_under_load(
    sim: ThreadedSim, amd_state: Path, tmp_path: Path, spawned: list[Spawned]
) -> None:
    a = stack.spawn_enclave("enclave-a", sim, amd_state, tmp_path)
    spawned.append(a)
    b = stack.spawn_enclave("enclave-b", sim, amd_state, tmp_path)
    spawned.append(b)
    config = stack.gateway_config(tmp_path, [("a", a.url), ("b", b.url)], amd_state)
    config_path = tmp_path / "gateway-cli.toml"
    config_path.write_text(stack.to_toml(config))
    key = cli_tenant(config_path, "--tenant", "acme")
    admin = cli_tenant(config_path, "--tenant", "ops", "--admin")
    gateway = stack.spawn_gateway("gateway", config, tmp_path)
    spawned.append(gateway)
    headers = {"authorization": f"Bearer {key}"}
    stack.wait_admitted(gateway.url, headers, ["a", "b"])
    addresses = {
        name: state["identity"]["address"]
        for name, state in stack.enclave_states(gateway.url, headers).items()
    }
    token = "failover-" + secrets.token_hex(4)

    async def scenario() -> tuple[list[tuple[str, bytes]], list[httpx.Response]]:
        async with httpx.AsyncClient(base_url=gateway.url, timeout=60) as client:
            held = await asyncio.gather(*(open_held_stream(client, key, token) for _ in range(4)))
            assert {enclave for enclave, _, _ in held} == {"a", "b"}
            a.kill()  # SIGKILL: no goodbye, no receipt for what was in flight
            answers: list[httpx.Response] = []
            for round_ in range(5):  # a bounded load: 5 rounds of 4 concurrent requests
                answers += await asyncio.gather(*(
                    client.post("/v1/chat/completions", headers=headers, json={
                        "model": MODEL, "messages": [{"role": "user", "content": f"r{round_}.{i}"}]})
                    for i in range(4)
                ))  # fmt: skip
            sim.release(token)
            ended = [(enclave, await rest_of(chunks)) for enclave, _, chunks in held]
            for _, response, _ in held:
                await response.aclose()
            return ended, answers

    ended, answers = asyncio.run(scenario())
    for answer in answers:  # every request that had not started succeeded, signed by b
        assert answer.status_code == 200
        receipt = parse_receipt_header(answer.headers["veritee-receipt"])
        receipt.verify()
        assert receipt.body.signer == addresses["b"]
    for enclave, rest in ended:
        if enclave == "b":
            head, marker, tail = rest.partition(b"event: veritee-receipt\ndata: ")
            assert marker and head.endswith(b"data: [DONE]\n\n")
            parse_receipt(tail.rstrip(b"\n")).verify()
        else:  # cut on the dead enclave: a clear error, never a silent unsigned success
            assert b'"code":"stream_truncated"' in rest
            assert b"[DONE]" not in rest and b"veritee-receipt" not in rest
    state = stack.enclave_states(gateway.url, headers)["a"]
    assert state["state"] == "unreachable"

    # The upstream cuts a stream: the client gets an error, the store a truncated receipt.
    client = openai.OpenAI(base_url=gateway.url + "/v1", api_key=key, max_retries=0)
    with pytest.raises(openai.APIError):
        list(client.chat.completions.create(
            model=MODEL, stream=True,
            messages=[{"role": "user", "content": "cut me [[sim:fault=truncate,chunks=4]]"}]))  # fmt: skip
    listing = httpx.get(gateway.url + "/v1/receipts?limit=1000",
                        headers={"authorization": f"Bearer {admin}"}).json()  # fmt: skip
    truncated = [e for e in listing["data"] if e["status"] == "truncated" and e["tenant"] == "acme"]
    assert len(truncated) == 1 and truncated[0]["verdict"] == "verified"
    assert {e["verdict"] for e in listing["data"]} == {"verified"}

    # Restarted with a new key on the same address: verified again, then readmitted.
    restarted = stack.respawn(a, sim, amd_state, tmp_path)
    spawned.append(restarted)
    stack.wait_admitted(gateway.url, headers, ["a"])
    again = stack.enclave_states(gateway.url, headers)["a"]["identity"]["address"]
    assert again != addresses["a"]
    logged = [orjson.loads(line) for line in gateway.log.read_bytes().splitlines()]
    assert any(e["event"] == "enclave unreachable" and e["enclave"] == "a" for e in logged)
