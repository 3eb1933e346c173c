"""Streams at their edges: a client that leaves, a receipt the SDK never sees."""

from __future__ import annotations

import hashlib
import secrets

import httpx
import openai
import orjson
import pytest

from tests.enclave.conftest import ANTHROPIC_MODEL, OPENAI_MODEL, RunningEnclave, StartEnclave
from tests.enclave.helpers import next_receipt
from tests.enclave.receipts_check import split_stream
from veritee.upstream_sim import ThreadedSim

MODELS = pytest.mark.parametrize("model", [OPENAI_MODEL, ANTHROPIC_MODEL])


@MODELS
def test_a_client_that_leaves_gets_a_truncated_receipt_at_once(
    start_enclave: StartEnclave, sim: ThreadedSim, model: str
) -> None:
    # The upstream holds the stream after its first chunk for up to 10 s, and the enclave
    # would wait 60 s for it: only noticing the client leave can produce the receipt.
    running = start_enclave(upstream={"read_timeout_seconds": 60})
    token = "leave-" + secrets.token_hex(4)
    body = orjson.dumps(
        {
            "model": model,
            "stream": True,
            "messages": [{"role": "user", "content": f"a long story [[sim:hold={token}]]"}],
        }
    )
    before = running.enclave.log.last_seq
    received = b""
    try:
        with (
            httpx.Client(timeout=10) as http,
            http.stream("POST", running.url + "/v1/chat/completions", content=body) as response,
        ):
            for part in response.iter_raw():
                received += part
                if b"\n\n" in received:
                    break  # the first event arrived; leave
        receipt = next_receipt(running.enclave.log, before, within=5).receipt
    finally:
        sim.release(token)
    assert (receipt.body.status, receipt.body.stream) == ("truncated", True)
    assert b"veritee-receipt" not in received
    assert receipt.body.response_sha256 != hashlib.sha256(b"").hexdigest()


@MODELS
def test_the_sdk_yields_exactly_the_chunks_before_the_receipt(
    enclave: RunningEnclave, model: str
) -> None:
    request = {
        "model": model,
        "messages": [{"role": "user", "content": "five words please"}],
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    raw = httpx.post(enclave.url + "/v1/chat/completions", json=request, timeout=10).content
    before, _ = split_stream(raw)
    events = [e for e in before.split(b"\n\n") if e.startswith(b"data: {")]
    sdk = openai.OpenAI(base_url=enclave.openai_url, api_key="x", max_retries=0)
    chunks = list(sdk.chat.completions.create(**request))
    assert len(chunks) == len(events)
    assert [c.model_dump(exclude_unset=True) for c in chunks][-1]["usage"] == orjson.loads(
        events[-1][len(b"data: ") :]
    )["usage"]
