"""Forwarding: failover before the first byte, receipts checked and stored, ejections."""

from __future__ import annotations

import asyncio
import hashlib
from typing import Any

import orjson
import pytest
from starlette.responses import Response

from gateway.errors import ApiError
from gateway.obs.metrics import Metrics
from gateway.pool.member import State
from gateway.pool.pool import Pool
from gateway.proxy.call import Call
from gateway.proxy.forward import Forwarder
from gateway.proxy.ingest import ReceiptIngest
from gateway.proxy.relay import StreamRelay
from gateway.settings import RetrySettings
from gateway.store.base import ApiKeyRecord, ReceiptQuery, StoredReceipt
from gateway.store.memory import MemoryStore
from tests.gateway.fakes import MODEL, SigningEnclave, admitted_pool, transport_for
from transcript.keys import SigningKey

KEY = ApiKeyRecord(key_id="key_t", tenant="acme", key_sha256="0" * 64, created_ms=0)


class Rig:
    def __init__(self, n: int = 2, *, max_attempts: int = 3, max_retry_after: float = 5.0) -> None:
        self.enclaves = [SigningEnclave(name, i + 1) for i, name in enumerate("ab"[:n])]
        self.metrics = Metrics()
        self.pool: Pool = admitted_pool(self.enclaves, self.metrics)
        self.store = MemoryStore()
        self.finished: list[tuple[int, StoredReceipt | None, str | None]] = []
        self.forwarder = Forwarder(
            pool=self.pool, transport=transport_for(self.enclaves),
            ingest=ReceiptIngest(self.store, self.pool, self.metrics, lambda: 5),
            metrics=self.metrics,
            retry=RetrySettings(max_attempts=max_attempts, max_retry_after_seconds=max_retry_after,
                                backoff_seconds=0.0),
            done=lambda call, status, stored, problem: self.finished.append((status, stored, problem)),
        )  # fmt: skip

    def call(self, *, stream: bool = False) -> Call:
        body = orjson.dumps({"model": MODEL, "stream": stream, "messages": []})
        return Call(
            request_id="req_1", key=KEY, model=MODEL, stream=stream, body=body,
            body_sha256=hashlib.sha256(body).hexdigest(),
            upstream_headers={"content-type": "application/json"},
            reply_headers={"x-veritee-request-id": "req_1"},
        )  # fmt: skip

    def forward(self, call: Call) -> tuple[Response | StreamRelay, StoredReceipt | None]:
        return asyncio.run(self.forwarder.forward(call))

    def member(self, name: str) -> Any:
        return self.pool.members[name]

    def stored(self) -> list[StoredReceipt]:
        return asyncio.run(self.store.query_receipts(ReceiptQuery(limit=100)))


def test_a_verified_answer_carries_its_receipt_and_is_stored() -> None:
    rig = Rig(1)
    answer, stored = rig.forward(rig.call())
    assert isinstance(answer, Response) and answer.status_code == 200
    assert stored is not None and stored.verified and stored.tenant == "acme"
    assert answer.headers["veritee-receipt"]
    assert answer.headers["x-veritee-request-id"] == "req_1"
    assert "x-should-retry" not in answer.headers
    assert [r.id for r in rig.stored()] == [stored.id]


def test_a_refused_connection_fails_over_and_takes_the_enclave_out() -> None:
    rig = Rig(2)
    rig.enclaves[0].script = ["refuse"]
    answer, stored = rig.forward(call := rig.call())
    assert isinstance(answer, Response) and answer.status_code == 200
    assert call.attempts == 2 and call.enclave == "b"
    assert rig.member("a").state is State.UNREACHABLE
    assert stored is not None and stored.enclave == "b"


@pytest.mark.parametrize(
    ("misbehave", "verdict"),
    [
        ("foreign_key", "unknown_signer"),
        ("request", "request_mismatch"),
        ("unsigned", None),
    ],
)
def test_a_bad_or_missing_receipt_ejects_and_fails_over(
    misbehave: str, verdict: str | None
) -> None:
    rig = Rig(2)
    bad = rig.enclaves[0]
    if misbehave == "foreign_key":
        bad.signing_key = SigningKey.from_secret(b"\x09" * 32)
    elif misbehave == "request":
        bad.lie_about_request = True
    else:
        bad.script = ["unsigned"]
    answer, stored = rig.forward(rig.call())
    assert isinstance(answer, Response) and answer.status_code == 200
    assert stored is not None and stored.verified and stored.enclave == "b"
    member = rig.member("a")
    assert member.state is State.EJECTED
    assert member.reason.startswith(f"receipt.{verdict or 'missing'}")
    flagged = [r for r in rig.stored() if not r.verified]
    assert [r.verdict for r in flagged] == ([verdict] if verdict else [])
    # Its keyset is banned: fresh evidence for the same keyset does not readmit it.
    asyncio.run(rig.pool.reattest(member))
    assert member.state is State.EJECTED and "banned-keyset" in (member.reason or "")


def test_retryable_statuses_are_retried_and_every_receipt_kept() -> None:
    rig = Rig(1)
    rig.enclaves[0].script = [(503, 0), (429, 0)]
    answer, _stored = rig.forward(call := rig.call())
    assert isinstance(answer, Response) and answer.status_code == 200
    assert call.attempts == 3
    assert [r.status for r in rig.stored()] == ["upstream_error", "upstream_error", "complete"]


def test_after_its_own_retries_the_gateway_says_do_not_retry() -> None:
    rig = Rig(1, max_attempts=2)
    rig.enclaves[0].script = [(503, 0), (503, 0)]
    answer, stored = rig.forward(rig.call())
    assert isinstance(answer, Response) and answer.status_code == 503
    assert answer.headers["x-should-retry"] == "false"
    assert answer.headers["veritee-receipt"]
    assert stored is not None and stored.status == "upstream_error"


def test_a_long_retry_after_is_passed_to_the_client() -> None:
    rig = Rig(1, max_retry_after=1.0)
    rig.enclaves[0].script = [(429, 30)]
    answer, _ = rig.forward(call := rig.call())
    assert isinstance(answer, Response) and answer.status_code == 429
    assert answer.headers["retry-after"] == "30"
    assert call.attempts == 1


def test_no_enclave_is_a_503() -> None:
    rig = Rig(1)
    rig.member("a").state = State.EJECTED
    with pytest.raises(ApiError) as caught:
        rig.forward(rig.call())
    assert caught.value.status == 503 and caught.value.code == "no_enclave_available"


def test_every_attempt_failing_is_a_502_that_should_not_be_retried() -> None:
    rig = Rig(2)
    for enclave in rig.enclaves:
        enclave.script = ["refuse"]
    with pytest.raises(ApiError) as caught:
        rig.forward(rig.call())
    assert caught.value.status == 502 and caught.value.headers["x-should-retry"] == "false"


class Client:
    """An ASGI client side for a StreamRelay: records what is sent."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self.leave = asyncio.Event()

    async def receive(self) -> dict[str, Any]:
        await self.leave.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: dict[str, Any]) -> None:
        self.messages.append(message)

    @property
    def body(self) -> bytes:
        return b"".join(m.get("body", b"") for m in self.messages)


def stream(rig: Rig) -> Client:
    async def main() -> Client:
        relay, stored = await rig.forwarder.forward(rig.call(stream=True))
        assert isinstance(relay, StreamRelay) and stored is None
        client = Client()
        await relay({"type": "http"}, client.receive, client.send)
        return client

    return asyncio.run(main())


def test_a_stream_is_relayed_with_the_receipt_last() -> None:
    rig = Rig(1)
    client = stream(rig)
    assert client.messages[0]["status"] == 200
    assert client.body.startswith(
        b'data: {"n":1}\n\ndata: {"n":2}\n\ndata: [DONE]\n\nevent: veritee-receipt'
    )
    [(_status, stored, problem)] = rig.finished
    assert stored is not None and stored.verified and stored.stream and problem is None
    assert rig.member("a").outstanding == 0


def test_a_stream_cut_before_its_receipt_ends_with_an_error_event() -> None:
    rig = Rig(1)
    rig.enclaves[0].script = ["cut"]
    client = stream(rig)
    assert client.body.startswith(b"data: {}\n\n")
    assert b'"code":"stream_truncated"' in client.body and b"[DONE]" not in client.body
    assert client.messages[-1]["more_body"] is False
    [(_status, stored, problem)] = rig.finished
    assert stored is None and problem is not None
    assert rig.member("a").failures == 1 and rig.member("a").outstanding == 0


def test_a_stream_with_a_bad_receipt_ends_with_an_error_and_ejects() -> None:
    rig = Rig(1)
    rig.enclaves[0].signing_key = SigningKey.from_secret(b"\x07" * 32)
    client = stream(rig)
    assert b'"code":"receipt_invalid"' in client.body and b"data: [DONE]" not in client.body
    assert rig.member("a").state is State.EJECTED
    assert [r.verdict for r in rig.stored()] == ["unknown_signer"]
