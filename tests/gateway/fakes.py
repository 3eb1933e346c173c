"""Enclaves in-process, for tests of the gateway's logic (the real ones run in test_e2e_*).

:class:`SigningEnclave` signs real receipts (:mod:`transcript`) with its own key, over the
exact bytes it is sent and answers, and can be told to misbehave. The pool members are
admitted by hand here; admission itself is tested against real enclaves.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
from collections.abc import AsyncIterator, Sequence
from typing import Any

import orjson

from gateway.errors import EnclaveUnavailable
from gateway.fake_transport import FakeReply, FakeRequest, FakeTransport
from gateway.obs.metrics import Metrics
from gateway.pool.admission import AdmissionFailed
from gateway.pool.balancer import LeastOutstanding
from gateway.pool.member import Identity, State
from gateway.pool.pool import Pool
from gateway.settings import AttestationSettings, EnclaveSettings, HealthSettings
from transcript.keys import PublicKeyVerifier, SigningKey
from transcript.receipt import ReceiptBody, Status, Upstream, sign_receipt

ZERO = "0" * 64
MODEL = "gpt-4o-mini"


class SigningEnclave:
    """A fake enclave: answers chat completions and signs a receipt for each."""

    def __init__(self, name: str, secret: int) -> None:
        self.name = name
        self.url = f"http://{name}.test"
        self.key = SigningKey.from_secret(secret.to_bytes(32, "big"))
        self.keyset_hash = hashlib.sha256(f"keyset-{name}".encode()).hexdigest()
        self.seq = 0
        self.prev = ZERO
        self.calls = 0
        # Misbehaviours, set by tests:
        self.signing_key: SigningKey = self.key  # sign with another key than the attested one
        self.lie_about_request = False
        self.script: list[Any] = []  # per call: "refuse", "unsigned", (status, retry_after)...

    def identity(self) -> Identity:
        return Identity(
            address=self.key.address, verifier=PublicKeyVerifier(self.key.public_key),
            keyset_hash=self.keyset_hash, keyset=b"{}", platform="sev-snp",
            measurements={"measurement": "00" * 48}, image_digest="sha256:" + ZERO,
            verified_at_ms=1, not_after_ms=2**53 - 1,
        )  # fmt: skip

    def receipt(
        self, request: bytes, response: bytes, *, status: Status, http_status: int, stream: bool
    ) -> bytes:
        self.seq += 1
        body = ReceiptBody(
            signer=self.signing_key.address, keyset=self.keyset_hash, seq=self.seq,
            prev=self.prev, time_ms=1_700_000_000_000 + self.seq,
            request_sha256=hashlib.sha256(b"lie" if self.lie_about_request else request).hexdigest(),
            response_sha256=hashlib.sha256(response).hexdigest(), stream=stream, status=status,
            http_status=http_status, model=MODEL, upstream=Upstream(provider="sim", host="sim"),
            usage={"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
        )  # fmt: skip
        signed = sign_receipt(self.signing_key, body)
        self.prev = signed.id
        return signed.canonical()

    async def handle(self, request: FakeRequest) -> FakeReply:
        self.calls += 1
        step = self.script.pop(0) if self.script else "ok"
        if step == "refuse":
            raise EnclaveUnavailable("connection refused", refused=True)
        body = request.body or b""
        stream = bool(orjson.loads(body).get("stream"))
        if step == "cut":
            return FakeReply(
                200, {"content-type": "text/event-stream"}, [b"data: {}\n\n"], cut=True
            )
        if stream and step == "ok":
            return self.stream_reply(body, [b'data: {"n":1}\n\n', b'data: {"n":2}\n\n'])
        status, retry_after = (200, None) if step in ("ok", "unsigned") else step
        answer = orjson.dumps({"id": "chatcmpl-1", "object": "chat.completion", "n": self.calls})
        headers = {"content-type": "application/json"}
        if step != "unsigned":
            wire = self.receipt(
                body, answer, status="complete" if status == 200 else "upstream_error",
                http_status=status, stream=False,
            )  # fmt: skip
            headers["veritee-receipt"] = _b64(wire)
        if retry_after is not None:
            headers["retry-after"] = str(retry_after)
        return FakeReply(status, headers, [answer])

    def stream_reply(
        self, request: bytes, events: Sequence[bytes], *, hold: asyncio.Event | None = None
    ) -> FakeReply:
        async def chunks() -> AsyncIterator[bytes]:
            sent = b""
            for i, event in enumerate(events):
                if i == 1 and hold is not None:
                    await hold.wait()
                sent += event
                yield event
            tail = b"data: [DONE]\n\n"
            wire = self.receipt(
                request, sent + tail, status="complete", http_status=200, stream=True
            )
            yield tail + b"event: veritee-receipt\ndata: " + wire + b"\n\n"

        return FakeReply(200, {"content-type": "text/event-stream"}, chunks())


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


class StaticAttester:
    """Re-attestation in these tests finds the enclave's (unchanged) identity again."""

    def __init__(self, enclaves: Sequence[SigningEnclave]) -> None:
        self._by_url = {e.url: e for e in enclaves}

    async def attest(self, base_url: str) -> tuple[Identity, frozenset[str]]:
        enclave = self._by_url.get(base_url)
        if enclave is None:
            raise AdmissionFailed("unreachable", "no such enclave", unreachable=True)
        return enclave.identity(), frozenset({MODEL})


def admitted_pool(enclaves: Sequence[SigningEnclave], metrics: Metrics) -> Pool:
    pool = Pool(
        [EnclaveSettings(e.name, e.url) for e in enclaves], attester=StaticAttester(enclaves),
        balancer=LeastOutstanding(), health=HealthSettings(failure_threshold=2),
        attestation=AttestationSettings(), half_life=10.0, metrics=metrics,
        monotonic=lambda: 0.0,
    )  # fmt: skip
    for enclave in enclaves:
        member = pool.members[enclave.name]
        member.state = State.ADMITTED
        member.identity = enclave.identity()
        member.models = frozenset({MODEL})
    return pool


def transport_for(enclaves: Sequence[SigningEnclave]) -> FakeTransport:
    by_prefix = {e.url: e for e in enclaves}

    async def handler(request: FakeRequest) -> FakeReply:
        for prefix, enclave in by_prefix.items():
            if request.url.startswith(prefix):
                return await enclave.handle(request)
        raise EnclaveUnavailable("no such host", refused=True)

    return FakeTransport(handler)
