"""The OpenAI dialect: exact bytes out, usage and model read on the way, failures flagged."""

from __future__ import annotations

import orjson

from enclave.dialects.openai import OpenAIExchange, PassThrough
from enclave.settings import UpstreamSettings
from enclave.sse import SseParser
from tests.enclave.test_chat_request import parse

UPSTREAM = UpstreamSettings(
    name="oai", dialect="openai", base_url="https://o.example/v1", api_key="sk-1", models=("m",)
)


def test_the_request_goes_upstream_byte_for_byte() -> None:
    raw = b'{"model":"m", "messages":[{"role":"user","content":"hi"}], "logit_bias": {"1": 2}}'
    exchange = OpenAIExchange(parse(raw), UPSTREAM)
    assert exchange.call.body == raw
    assert exchange.call.url == "https://o.example/v1/chat/completions"
    assert exchange.call.headers["authorization"] == "Bearer sk-1"


def test_answers_pass_through_and_errors_get_an_envelope() -> None:
    exchange = OpenAIExchange(parse({"model": "m", "messages": [{"role": "user"}]}), UPSTREAM)
    body = orjson.dumps({"model": "m-2024", "choices": [], "usage": {"prompt_tokens": 2}})
    answer = exchange.answer(200, body)
    assert (answer.body, answer.status, answer.http_status) == (body, "complete", 200)
    assert (answer.usage, answer.upstream_model) == ({"prompt_tokens": 2}, "m-2024")
    envelope = orjson.dumps({"error": {"message": "slow down", "type": "requests"}})
    limited = exchange.answer(429, envelope)
    assert (limited.body, limited.status, limited.http_status) == (envelope, "upstream_error", 429)
    assert exchange.answer(401, envelope).http_status == 502
    garbled = exchange.answer(503, b"<html>")
    assert orjson.loads(garbled.body)["error"]["type"] == "upstream_error"
    assert exchange.answer(200, b'{"half": ').http_status == 502


def feed(stream: bytes) -> tuple[PassThrough, bytes]:
    translator = PassThrough()
    out = b"".join(translator.feed(e) for e in SseParser().feed(stream))
    return translator, out


def test_events_pass_through_except_done() -> None:
    chunk = b'data: {"model":"m-1","choices":[],"usage":{"total_tokens":3}}\r\n\r\n'
    stream = b": keep-alive\n\n" + chunk + b"data: [DONE]\n\n"
    translator, out = feed(stream)
    assert out == b": keep-alive\n\n" + chunk
    assert translator.done
    assert not translator.failed
    assert translator.usage == {"total_tokens": 3}
    assert translator.upstream_model == "m-1"


def test_error_chunks_and_malformed_data_fail_the_stream_but_pass_through() -> None:
    for bad in (b'data: {"error": {"message": "x"}}\n\n', b'data: {"cut\n\n', b"data: [1]\n\n"):
        translator, out = feed(bad + b"data: [DONE]\n\n")
        assert out == bad
        assert translator.failed
