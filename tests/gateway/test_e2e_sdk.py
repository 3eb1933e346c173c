"""The official ``openai`` SDK through the gateway, to two real enclaves and the simulator.

Every receipt is verified here from the outside, as a client would: signature by the
enclave key the gateway attested, keyset, and the hashes of the exact bytes sent and
received.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import logging
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import orjson
import pytest

from gateway.app import gateway_of
from gateway.obs.logs import JsonFormatter
from tests.gateway import stack
from tests.gateway.stack import MODEL, OTHER_MODEL, InThread, Tenant
from transcript.receipt import Receipt, parse_receipt, parse_receipt_header
from veritee.upstream_sim import ThreadedSim


class Stack:
    def __init__(self, gateway: InThread, enclaves: list[InThread], tenants: dict[str, Tenant]):
        self.gateway = gateway
        self.enclaves = enclaves
        self.tenants = tenants
        self.url = gateway.url

    def client(self, tenant: str = "acme") -> openai.OpenAI:
        return openai.OpenAI(
            base_url=self.url + "/v1", api_key=self.tenants[tenant].key, max_retries=0
        )

    def identities(self) -> dict[str, dict[str, Any]]:
        states = stack.enclave_states(self.url, self.tenants["acme"].headers)
        return {s["identity"]["address"]: s["identity"] for s in states.values()}


@pytest.fixture(scope="module")
def gw(
    sim: ThreadedSim, amd_state: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    directory = tmp_path_factory.mktemp("gw-sdk")
    enclaves = [stack.start_enclave(sim, amd_state) for _ in range(2)]
    config = stack.gateway_config(
        directory, [("a", enclaves[0].url), ("b", enclaves[1].url)], amd_state
    )
    tenants = {
        "acme": stack.add_tenant(config, "acme"),
        "narrow": stack.add_tenant(config, "narrow", models=(MODEL,)),
        "slow": stack.add_tenant(config, "slow", rpm=1),
        "ops": stack.add_tenant(config, "ops", admin=True),
    }
    gateway = stack.start_gateway(config)
    stack.wait_admitted(gateway.url, tenants["acme"].headers, ["a", "b"])
    yield Stack(gateway, enclaves, tenants)
    gateway.stop()
    for enclave in enclaves:
        enclave.stop()


def check_receipt(receipt: Receipt, gw: Stack, *, request: bytes, response: bytes) -> None:
    """What a careful client checks: signer attested, signature, keyset, both hashes."""
    identity = gw.identities()[receipt.body.signer]
    receipt.verify()  # the signature recovers the signer the body names...
    assert receipt.body.keyset == identity["keyset_sha256"]  # ...which the gateway attested
    assert receipt.body.request_sha256 == hashlib.sha256(request).hexdigest()
    assert receipt.body.response_sha256 == hashlib.sha256(response).hexdigest()


def test_sdk_non_streamed_with_its_receipt(gw: Stack) -> None:
    raw = gw.client().chat.completions.with_raw_response.create(
        model=MODEL, messages=[{"role": "user", "content": "hello"}]
    )
    completion = raw.parse()
    assert completion.choices[0].message.content
    receipt = parse_receipt_header(raw.headers["veritee-receipt"])
    check_receipt(receipt, gw, request=raw.http_request.content, response=raw.content)
    assert receipt.body.status == "complete" and receipt.body.caller  # the gateway set the key id
    stored = httpx.get(
        f"{gw.url}/v1/receipts/{receipt.id}", headers=gw.tenants["acme"].headers
    ).json()
    assert stored["verdict"] == "verified" and stored["tenant"] == "acme"
    assert stored["request_id"] == raw.headers["x-veritee-request-id"]
    assert parse_receipt(orjson.dumps(stored["receipt"])) == receipt
    other = httpx.get(f"{gw.url}/v1/receipts/{receipt.id}", headers=gw.tenants["narrow"].headers)
    assert other.status_code == 404  # another tenant's receipt does not exist for this key


def test_sdk_streamed_and_the_receipt_after_done(gw: Stack) -> None:
    chunks = gw.client().chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "stream please"}], stream=True
    )
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text.startswith("Simulated reply")

    body = {"model": MODEL, "messages": [{"role": "user", "content": "raw"}], "stream": True}
    request = orjson.dumps(body)
    headers = {**gw.tenants["acme"].headers, "content-type": "application/json"}
    with httpx.stream(
        "POST", gw.url + "/v1/chat/completions", content=request, headers=headers
    ) as r:
        received = b"".join(r.iter_bytes())
    head, marker, tail = received.partition(b"event: veritee-receipt\n")
    assert marker and head.endswith(b"data: [DONE]\n\n")
    receipt = parse_receipt(tail.removeprefix(b"data: ").rstrip(b"\n"))
    check_receipt(receipt, gw, request=request, response=head)
    assert receipt.body.stream and receipt.body.status == "complete"


def test_sdk_tools(gw: Stack) -> None:
    tools = [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
            },
        }
    ]
    raw = gw.client().chat.completions.with_raw_response.create(
        model=MODEL, messages=[{"role": "user", "content": "weather?"}], tools=tools,
        tool_choice="required",
    )  # fmt: skip
    call = raw.parse().choices[0].message.tool_calls[0]
    assert call.function.name == "get_weather"
    receipt = parse_receipt_header(raw.headers["veritee-receipt"])
    check_receipt(receipt, gw, request=raw.http_request.content, response=raw.content)


def test_models_are_the_union_filtered_by_the_key(gw: Stack) -> None:
    assert sorted(m.id for m in gw.client().models.list()) == [OTHER_MODEL, MODEL]
    assert [m.id for m in gw.client("narrow").models.list()] == [MODEL]


def test_streams_are_relayed_without_buffering(gw: Stack, sim: ThreadedSim) -> None:
    """The client holds the first chunk while the simulator still holds the rest back."""
    token = "gw-hold-" + secrets.token_hex(4)
    body = {
        "model": MODEL, "stream": True,
        "messages": [{"role": "user", "content": f"tell me more [[sim:hold={token},chunks=4]]"}],
    }  # fmt: skip
    headers = gw.tenants["acme"].headers
    with httpx.stream("POST", gw.url + "/v1/chat/completions", json=body, headers=headers,
                      timeout=30) as response:  # fmt: skip
        events = response.iter_lines()
        first = next(line for line in events if line.startswith("data: "))
        assert '"content"' in first or '"role"' in first
        assert sim.waiting(token) == 1  # the rest of the stream does not exist yet
        assert sim.release(token) == 1
        rest = list(events)
    assert "data: [DONE]" in rest and "event: veritee-receipt" in rest


@pytest.mark.parametrize(
    ("tenant", "body", "status", "code"),
    [
        (None, {"model": MODEL, "messages": []}, 401, "invalid_api_key"),
        ("bogus", {"model": MODEL, "messages": []}, 401, "invalid_api_key"),
        ("narrow", {"model": OTHER_MODEL, "messages": []}, 403, "model_not_allowed"),
        ("acme", {"model": "no-such-model", "messages": []}, 404, "model_not_found"),
        ("acme", b"{not json", 400, "invalid_json"),
        ("acme", {"messages": []}, 400, None),
        ("acme", {"model": MODEL, "stream": "yes", "messages": []}, 400, None),
        ("acme", b"x" * (4 * 1024 * 1024 + 1), 413, "request_too_large"),
    ],
)
def test_bad_requests_get_the_openai_envelope(
    gw: Stack, tenant: str | None, body: Any, status: int, code: str | None
) -> None:
    headers = {"content-type": "application/json"}
    if tenant == "bogus":
        headers["authorization"] = "Bearer vt-" + "A" * 43
    elif tenant is not None:
        headers.update(gw.tenants[tenant].headers)
    content = body if isinstance(body, bytes) else orjson.dumps(body)
    response = httpx.post(gw.url + "/v1/chat/completions", content=content, headers=headers)
    assert response.status_code == status
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["code"] == code and error["message"]


def test_over_the_limit_is_429_with_rate_limit_headers(gw: Stack) -> None:
    client = gw.client("slow")
    first = client.chat.completions.with_raw_response.create(
        model=MODEL, messages=[{"role": "user", "content": "one"}]
    )
    assert first.headers["x-ratelimit-limit-requests"] == "1"
    assert first.headers["x-ratelimit-remaining-requests"] == "0"
    with pytest.raises(openai.RateLimitError) as caught:
        client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "two"}])
    headers = caught.value.response.headers
    assert int(headers["retry-after"]) >= 1
    assert headers["x-ratelimit-remaining-requests"] == "0"
    assert headers["x-ratelimit-reset-requests"].endswith("s")
    assert caught.value.code == "rate_limit_exceeded"


def test_the_pool_is_visible(gw: Stack) -> None:
    states = stack.enclave_states(gw.url, gw.tenants["acme"].headers)
    assert {s["state"] for s in states.values()} == {"admitted"}
    for state in states.values():
        identity = state["identity"]
        assert identity["measurements"] == {"measurement": stack.MEASUREMENT}
        assert identity["platform"] == "sev-snp" and identity["verified_at_ms"] > 0
        assert identity["address"].startswith("0x") and state["reason"] is None
    assert httpx.get(gw.url + "/v1/enclaves").status_code == 401
    assert httpx.get(gw.url + "/readyz").json() == {"status": "ready", "admitted_enclaves": 2}


def test_metrics(gw: Stack) -> None:
    gw.client().chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "m"}])
    text = httpx.get(gw.url + "/metrics").text
    assert f'veritee_gateway_requests_total{{code="200",model="{MODEL}",stream="false"}}' in text
    assert 'veritee_gateway_enclave_state{enclave="a",state="admitted"} 1.0' in text
    assert 'veritee_gateway_receipts_stored_total{source="response",verdict="verified"}' in text
    assert "veritee_gateway_time_to_first_token_seconds_bucket" in text
    assert f'veritee_gateway_tokens_total{{kind="completion",model="{MODEL}"}}' in text


def test_logs_never_hold_content(gw: Stack) -> None:
    secret = "prompt-" + secrets.token_hex(8)
    logger = logging.getLogger("gateway")
    captured = io.StringIO()
    handler = logging.StreamHandler(captured)
    handler.setFormatter(JsonFormatter())
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        client = gw.client()
        reply = client.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": secret}]
        )
        answer = reply.choices[0].message.content or ""
        streamed = client.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": secret}], stream=True
        )
        list(streamed)
        httpx.post(gw.url + "/v1/chat/completions", json={"model": secret},
                   headers=gw.tenants["acme"].headers)  # fmt: skip
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    lines = [orjson.loads(line) for line in captured.getvalue().splitlines()]
    assert [entry["event"] for entry in lines].count("request") >= 2
    text = captured.getvalue()
    assert secret not in text
    assert answer[:30] not in text
    assert gw.tenants["acme"].key not in text


def test_what_only_the_enclave_logs_reaches_the_store(gw: Stack, sim: ThreadedSim) -> None:
    """A client that leaves mid-stream gets no receipt; the enclave signs one into its log
    (truncated), and the log sync copies it, and the enclave's checkpoints, into the store."""
    token = "gw-leave-" + secrets.token_hex(4)
    body = {"model": MODEL, "stream": True,
            "messages": [{"role": "user", "content": f"bye [[sim:hold={token}]]"}]}  # fmt: skip
    with httpx.stream("POST", gw.url + "/v1/chat/completions", json=body,
                      headers=gw.tenants["acme"].headers, timeout=30) as response:  # fmt: skip
        next(response.iter_bytes())
        enclave_name = response.headers["x-veritee-enclave"]
    # The client is gone while the simulator still holds the rest: the gateway closes the
    # enclave connection, and the enclave signs what it sent as truncated.
    ops = gw.tenants["ops"].headers

    def truncated_in_store() -> bool:
        listing = httpx.get(gw.url + "/v1/receipts?limit=1000", headers=ops).json()["data"]
        return any(e["status"] == "truncated" and e["source"] == "log" for e in listing)

    stack.wait_until(truncated_in_store)
    sim.release(token)
    store = gateway_of(gw.gateway.app).store
    address = stack.enclave_states(gw.url, ops)[enclave_name]["identity"]["address"]

    def checkpointed() -> bool:
        return asyncio.run(store.latest_checkpoint(address)) is not None

    stack.wait_until(checkpointed)


def test_attestation_is_relayed_only_for_a_known_enclave_and_a_real_nonce(gw: Stack) -> None:
    headers = gw.tenants["acme"].headers
    nonce = secrets.token_hex(32)
    ok = httpx.get(f"{gw.url}/v1/enclaves/a/attestation?nonce={nonce}", headers=headers)
    assert ok.status_code == 200 and ok.json()["nonce"] == nonce
    for path, status in [
        (f"/v1/enclaves/zzz/attestation?nonce={nonce}", 404),
        ("/v1/enclaves/a/attestation?nonce=abc", 400),
        ("/v1/enclaves/a/attestation", 400),
    ]:
        assert httpx.get(gw.url + path, headers=headers).status_code == status
    assert httpx.get(f"{gw.url}/v1/enclaves/a/attestation?nonce={nonce}").status_code == 401
