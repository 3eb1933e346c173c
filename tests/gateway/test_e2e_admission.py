"""Enclaves that must never serve a client: each is a real enclave the gateway turns away.

- its measurement is not in the operator's policy;
- its evidence is simulated and the simulated roots are not among the trusted ones;
- its receipts are signed by a key other than the one its evidence attests (a test-only
  enclave variant: a layer around a real enclave that re-signs every receipt).
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from tests.gateway import stack
from tests.gateway.stack import MODEL, InThread
from transcript.digest import receipt_digest
from transcript.keys import SigningKey
from transcript.receipt import Receipt, parse_receipt, parse_receipt_header
from veritee.upstream_sim import ThreadedSim


class ResignedReceipts:
    """Test-only enclave variant: every receipt it hands out is signed by a key it never
    attested (the body, naming the attested key, is unchanged)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.rogue = SigningKey.generate()

    def resign(self, wire: bytes) -> bytes:
        genuine = parse_receipt(wire)
        signature = self.rogue.sign_digest(receipt_digest(genuine.body_hash))
        return Receipt(genuine.body, signature, genuine.body_hash).canonical()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        async def rogue_send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = []
                for name, value in message.get("headers", []):
                    if name == b"veritee-receipt":
                        raw = base64.urlsafe_b64decode(value + b"=" * (-len(value) % 4))
                        headers.append(
                            (name, base64.urlsafe_b64encode(self.resign(raw)).rstrip(b"="))
                        )
                    else:
                        headers.append((name, value))
                message = {**message, "headers": headers}
            elif message["type"] == "http.response.body":
                body = message.get("body", b"")
                head, marker, tail = body.partition(b"event: veritee-receipt\ndata: ")
                if marker:
                    wire = tail.rstrip(b"\n")
                    message = {**message, "body": head + marker + self.resign(wire) + b"\n\n"}
            await send(message)

        await self.app(scope, receive, rogue_send)


@pytest.fixture
def running() -> Iterator[list[InThread]]:
    servers: list[InThread] = []
    yield servers
    for server in reversed(servers):
        server.stop()


def start(running: list[InThread], server: InThread) -> InThread:
    running.append(server)
    return server


def wait_state(url: str, headers: dict[str, str], name: str, state: str) -> dict[str, Any]:
    stack.wait_until(lambda: stack.enclave_states(url, headers)[name]["state"] == state)
    return stack.enclave_states(url, headers)[name]


def test_a_measurement_outside_the_policy_is_never_admitted(
    sim: ThreadedSim, amd_state: Path, tmp_path: Path, running: list[InThread]
) -> None:
    enclave = start(running, stack.start_enclave(sim, amd_state, measurement="43" * 48))
    config = stack.gateway_config(tmp_path, [("odd", enclave.url)], amd_state)
    tenant = stack.add_tenant(config, "acme")
    gateway = start(running, stack.start_gateway(config))
    state = wait_state(gateway.url, tenant.headers, "odd", "ejected")
    assert state["reason"].startswith("policy.measurement")
    assert state["identity"] is None
    reply = httpx.post(gateway.url + "/v1/chat/completions", headers=tenant.headers,
                       json={"model": MODEL, "messages": [{"role": "user", "content": "x"}]})  # fmt: skip
    assert reply.status_code == 503 and reply.json()["error"]["code"] == "no_enclave_available"
    assert httpx.get(gateway.url + "/readyz").status_code == 503


def test_simulated_evidence_is_refused_without_the_simulated_roots(
    sim: ThreadedSim, amd_state: Path, tmp_path: Path, running: list[InThread]
) -> None:
    enclave = start(running, stack.start_enclave(sim, amd_state))
    config = stack.gateway_config(tmp_path, [("sim", enclave.url)], amd_state)
    config["attestation"] = {**config["attestation"], "roots": [], "shipped_roots": ["amd-milan"]}
    tenant = stack.add_tenant(config, "acme")
    gateway = start(running, stack.start_gateway(config))
    state = wait_state(gateway.url, tenant.headers, "sim", "ejected")
    assert state["reason"].startswith("snp.")
    metrics = httpx.get(gateway.url + "/metrics").text
    assert 'veritee_gateway_verification_failures_total{check="snp.' in metrics


def test_receipts_signed_by_another_key_eject_the_enclave(
    sim: ThreadedSim, amd_state: Path, tmp_path: Path, running: list[InThread]
) -> None:
    good = start(running, stack.start_enclave(sim, amd_state))
    rogue = start(running, stack.start_enclave(sim, amd_state, wrap=ResignedReceipts))
    config = stack.gateway_config(tmp_path, [("good", good.url), ("rogue", rogue.url)], amd_state)
    tenant = stack.add_tenant(config, "acme")
    ops = stack.add_tenant(config, "ops", admin=True)
    gateway = start(running, stack.start_gateway(config))
    stack.wait_admitted(gateway.url, tenant.headers, ["good", "rogue"])
    good_address = stack.enclave_states(gateway.url, tenant.headers)["good"]["identity"]["address"]

    client = openai.OpenAI(base_url=gateway.url + "/v1", api_key=tenant.key, max_retries=0)
    for i in range(6):  # the rogue gets some of these; none may reach the client from it
        raw = client.chat.completions.with_raw_response.create(
            model=MODEL, messages=[{"role": "user", "content": f"q{i}"}]
        )
        receipt = parse_receipt_header(raw.headers["veritee-receipt"])
        receipt.verify()
        assert receipt.body.signer == good_address
    state = stack.enclave_states(gateway.url, tenant.headers)["rogue"]
    assert state["state"] == "ejected"
    assert state["reason"].startswith("receipt.signature_invalid")
    flagged = httpx.get(gateway.url + "/v1/receipts?verdict=signature_invalid", headers=ops.headers)
    assert len(flagged.json()["data"]) == 1  # kept and flagged, not dropped
    assert flagged.json()["data"][0]["enclave"] == "rogue"


def test_with_only_a_rogue_enclave_the_client_gets_a_clear_error(
    sim: ThreadedSim, amd_state: Path, tmp_path: Path, running: list[InThread]
) -> None:
    rogue = start(running, stack.start_enclave(sim, amd_state, wrap=ResignedReceipts))
    config = stack.gateway_config(tmp_path, [("rogue", rogue.url)], amd_state)
    tenant = stack.add_tenant(config, "acme")
    gateway = start(running, stack.start_gateway(config))
    stack.wait_admitted(gateway.url, tenant.headers, ["rogue"])
    reply = httpx.post(gateway.url + "/v1/chat/completions", headers=tenant.headers,
                       json={"model": MODEL, "messages": [{"role": "user", "content": "x"}]})  # fmt: skip
    assert reply.status_code == 502
    assert reply.headers["x-should-retry"] == "false"
    assert "veritee-receipt" not in reply.headers
    assert stack.enclave_states(gateway.url, tenant.headers)["rogue"]["state"] == "ejected"
