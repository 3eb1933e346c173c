"""An enclave whose keyset has expired stops answering: its receipts would not verify."""

from __future__ import annotations

import httpx
import orjson

from attestation.simulated.snp import SimulatedSnpProvider
from enclave.app import create_app, enclave_of
from enclave.server import BackgroundServer
from enclave.settings import settings_from_dict
from enclave.upstream.fake import FakeReply, FakeRequest, FakeTransport
from tests.enclave.helpers import DIGEST, minimal_settings

ANSWER = orjson.dumps({"id": "c", "object": "chat.completion", "model": "m", "choices": []})


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000_000

    def __call__(self) -> int:
        return self.now


def reply(request: FakeRequest) -> FakeReply:
    return FakeReply(200, [ANSWER], headers={"content-type": "application/json"})


def test_requests_after_the_keyset_expired_get_503_and_no_receipt(
    snp: SimulatedSnpProvider,
) -> None:
    settings = settings_from_dict(
        minimal_settings(identity={"image_digest": DIGEST, "keyset_validity_seconds": 60})
    )
    clock = Clock()
    transport = FakeTransport(reply)
    app = create_app(settings, provider=snp, transport=transport, clock=clock)
    ask = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
    with BackgroundServer(app) as server, httpx.Client(base_url=server.url) as http:
        assert http.post("/v1/chat/completions", json=ask).status_code == 200
        clock.now += 60_001
        answer = http.post("/v1/chat/completions", json=ask)
        assert answer.status_code == 503
        assert answer.json()["error"]["code"] == "keyset_expired"
        ready = http.get("/readyz")
        assert (ready.status_code, ready.json()["status"]) == (503, "keyset_expired")
    assert enclave_of(app).log.last_seq == 1
    assert len(transport.requests) == 1, "nothing reached the upstream"
