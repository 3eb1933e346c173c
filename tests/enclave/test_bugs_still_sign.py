"""Even a bug in translation ends in exactly one receipt, and the log gets no content."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import httpx
import orjson
import pytest

from attestation.simulated.snp import SimulatedSnpProvider
from enclave.app import create_app, enclave_of
from enclave.dialects.openai import OpenAIExchange, PassThrough
from enclave.runtime import Enclave
from enclave.server import BackgroundServer
from enclave.settings import settings_from_dict
from enclave.sse import SseEvent
from enclave.upstream.fake import FakeReply, FakeRequest, FakeTransport
from tests.enclave.helpers import minimal_settings
from tests.enclave.receipts_check import split_stream

SECRET = "the-patient-record-42"


def reply(request: FakeRequest) -> FakeReply:
    if orjson.loads(request.body).get("stream"):
        chunk = b'data: {"choices":[{"index":0,"delta":{"content":"x"}}]}\n\n'
        return FakeReply(
            200, [chunk, chunk, b"data: [DONE]\n\n"], headers={"content-type": "text/event-stream"}
        )
    return FakeReply(200, [b'{"choices": []}'], headers={"content-type": "application/json"})


@pytest.fixture
def served(snp: SimulatedSnpProvider) -> Iterator[tuple[str, Enclave]]:
    settings = settings_from_dict(minimal_settings())
    app = create_app(settings, provider=snp, transport=FakeTransport(reply))
    with BackgroundServer(app) as server:
        yield server.url, enclave_of(app)


def boom(*args: object) -> bytes:
    raise KeyError(SECRET)


def test_a_bug_answering_is_a_500_with_a_receipt(
    served: tuple[str, Enclave], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    url, enclave = served
    monkeypatch.setattr(OpenAIExchange, "answer", boom)
    with caplog.at_level(logging.ERROR):
        answer = httpx.post(
            url + "/v1/chat/completions",
            json={"model": "m", "messages": [{"role": "user", "content": SECRET}]},
        )
    assert answer.status_code == 500
    assert answer.json()["error"]["type"] == "server_error"
    assert "veritee-receipt" in answer.headers
    (logged,) = enclave.log.since(0, 10)
    assert (logged.receipt.body.status, logged.receipt.body.http_status) == ("upstream_error", 500)
    assert "KeyError" in caplog.text
    assert SECRET not in caplog.text


def test_a_bug_mid_stream_cuts_the_stream_with_a_receipt(
    served: tuple[str, Enclave], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    url, enclave = served
    calls = []
    feed = PassThrough.feed

    def flaky(self: PassThrough, event: SseEvent) -> bytes:
        calls.append(event)
        return boom() if len(calls) == 2 else feed(self, event)

    monkeypatch.setattr(PassThrough, "feed", flaky)
    with caplog.at_level(logging.ERROR):
        raw = httpx.post(
            url + "/v1/chat/completions",
            json={"model": "m", "stream": True, "messages": [{"role": "user", "content": SECRET}]},
        ).content
    before, receipt = split_stream(raw)
    assert before.count(b'"content":"x"') == 1
    assert b"stream_truncated" in before
    assert receipt.body.status == "truncated"
    assert enclave.log.last_seq == 1
    assert SECRET not in caplog.text
