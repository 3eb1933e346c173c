"""Anthropic answers, errors and stream events -> OpenAI answers and chunks."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from enclave.dialects.anthropic import anthropic_error, from_anthropic
from enclave.dialects.anthropic_mapping import finish_reason, openai_usage
from enclave.dialects.anthropic_stream import AnthropicStream
from enclave.sse import SseParser

USAGE = {
    "input_tokens": 10,
    "output_tokens": 7,
    "cache_creation_input_tokens": 100,
    "cache_read_input_tokens": 1000,
}


def test_usage_counts_cached_tokens_into_the_prompt() -> None:
    assert openai_usage(USAGE) == {
        "prompt_tokens": 1110,
        "completion_tokens": 7,
        "total_tokens": 1117,
        "prompt_tokens_details": {"cached_tokens": 1000, "cache_write_tokens": 100},
    }
    assert openai_usage(None)["total_tokens"] == 0


@pytest.mark.parametrize(
    ("stop", "finish"),
    [
        ("end_turn", "stop"),
        ("stop_sequence", "stop"),
        ("max_tokens", "length"),
        ("tool_use", "tool_calls"),
        ("pause_turn", "stop"),
        ("refusal", "content_filter"),
        ("model_context_window_exceeded", "length"),
        ("something_new", "stop"),
        (None, "stop"),
    ],
)
def test_stop_reasons(stop: object, finish: str) -> None:
    assert finish_reason(stop) == finish


MESSAGE = {
    "id": "msg_1",
    "type": "message",
    "role": "assistant",
    "model": "claude-x-1",
    "content": [
        {"type": "thinking", "thinking": "hmm", "signature": "s"},
        {"type": "text", "text": "Let me "},
        {"type": "text", "text": "check."},
        {"type": "tool_use", "id": "toolu_1", "name": "weather", "input": {"city": "Oslo"}},
    ],
    "stop_reason": "tool_use",
    "stop_sequence": None,
    "usage": USAGE,
}


def test_a_message_with_text_and_a_tool_call() -> None:
    out = from_anthropic(MESSAGE, json_tool=None, created=123)
    assert out == {
        "id": "msg_1",
        "object": "chat.completion",
        "created": 123,
        "model": "claude-x-1",
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": "Let me check.",
                    "refusal": None,
                    "tool_calls": [
                        {
                            "id": "toolu_1",
                            "type": "function",
                            "function": {"name": "weather", "arguments": '{"city":"Oslo"}'},
                        }
                    ],
                },
                "logprobs": None,
                "finish_reason": "tool_calls",
            }
        ],
        "usage": openai_usage(USAGE),
    }


def test_the_forced_json_tool_becomes_content() -> None:
    message = {
        **MESSAGE,
        "content": [{"type": "tool_use", "id": "t", "name": "count", "input": {"n": 3}}],
    }
    out = from_anthropic(message, json_tool="count", created=1)
    choice = out["choices"][0]
    assert choice["message"]["content"] == '{"n":3}'
    assert "tool_calls" not in choice["message"]
    assert choice["finish_reason"] == "stop"


def test_malformed_messages_raise() -> None:
    with pytest.raises(ValueError, match="no id or content"):
        from_anthropic({"id": "x"}, json_tool=None, created=1)


def test_errors_become_openai_envelopes() -> None:
    body = orjson.dumps({"type": "error", "error": {"type": "overloaded_error", "message": "busy"}})
    answer = anthropic_error(529, body)
    assert answer.http_status == 529
    assert answer.status == "upstream_error"
    assert orjson.loads(answer.body) == {
        "error": {"message": "busy", "type": "overloaded_error", "param": None, "code": None}
    }
    assert anthropic_error(401, body).http_status == 502, "the enclave's key, not the caller's"
    garbled = anthropic_error(500, b"<html>")
    assert garbled.http_status == 500
    assert orjson.loads(garbled.body)["error"]["type"] == "upstream_error"


def sse(kind: str, **data: Any) -> bytes:
    return b"event: " + kind.encode() + b"\ndata: " + orjson.dumps({"type": kind, **data}) + b"\n\n"


def start(model: str = "claude-x-1", **usage: int) -> bytes:
    return sse("message_start", message={"id": "msg_9", "model": model, "usage": usage})


def tool_start(index: int, call_id: str, name: str) -> bytes:
    block = {"type": "tool_use", "id": call_id, "name": name, "input": {}}
    return sse("content_block_start", index=index, content_block=block)


def json_delta(index: int, partial: str) -> bytes:
    delta = {"type": "input_json_delta", "partial_json": partial}
    return sse("content_block_delta", index=index, delta=delta)


TOOL_STREAM = b"".join(
    [
        start(input_tokens=5, output_tokens=1),
        sse("ping"),
        sse("content_block_start", index=0, content_block={"type": "text", "text": ""}),
        sse("content_block_delta", index=0, delta={"type": "text_delta", "text": "On it."}),
        sse("content_block_stop", index=0),
        tool_start(1, "toolu_a", "weather"),
        json_delta(1, '{"city": '),
        json_delta(1, '"Oslo"}'),
        sse("content_block_stop", index=1),
        tool_start(2, "toolu_b", "weather"),
        json_delta(2, '{"city": "Rome"}'),
        sse("content_block_stop", index=2),
        sse("message_delta", delta={"stop_reason": "tool_use"}, usage={"output_tokens": 30}),
        sse("message_stop"),
    ]
)


def translate(stream: bytes, **options: Any) -> tuple[AnthropicStream, list[dict[str, Any]]]:
    translator = AnthropicStream(
        include_usage=options.get("include_usage", False),
        json_tool=options.get("json_tool"),
        created=42,
    )
    out = b"".join(translator.feed(e) for e in SseParser().feed(stream))
    chunks = [orjson.loads(e.data) for e in SseParser().feed(out) if e.data is not None]
    return translator, chunks


def test_streamed_tool_calls_get_openai_indexes() -> None:
    translator, chunks = translate(TOOL_STREAM, include_usage=True)
    assert translator.done
    assert not translator.failed
    assert translator.upstream_model == "claude-x-1"
    assert translator.usage == {
        "prompt_tokens": 5,
        "completion_tokens": 30,
        "total_tokens": 35,
        "prompt_tokens_details.cached_tokens": 0,
        "prompt_tokens_details.cache_write_tokens": 0,
    }
    assert all(c["id"] == "msg_9" and c["created"] == 42 for c in chunks)
    assert all(c["model"] == "claude-x-1" for c in chunks)
    deltas = [c["choices"][0]["delta"] for c in chunks if c["choices"]]
    assert deltas[0] == {"role": "assistant", "content": ""}
    assert deltas[1] == {"content": "On it."}
    assert deltas[2] == {
        "tool_calls": [
            {
                "index": 0,
                "id": "toolu_a",
                "type": "function",
                "function": {"name": "weather", "arguments": ""},
            }
        ]
    }
    assert deltas[3] == {"tool_calls": [{"index": 0, "function": {"arguments": '{"city": '}}]}
    assert deltas[5]["tool_calls"][0]["index"] == 1
    assert deltas[6] == {
        "tool_calls": [{"index": 1, "function": {"arguments": '{"city": "Rome"}'}}]
    }
    assert chunks[-2]["choices"][0]["finish_reason"] == "tool_calls"
    assert chunks[-1]["choices"] == []
    assert chunks[-1]["usage"]["completion_tokens"] == 30
    assert all("usage" in c for c in chunks)


def test_without_include_usage_there_is_no_usage_chunk() -> None:
    translator, chunks = translate(TOOL_STREAM)
    assert all(c["choices"] and "usage" not in c for c in chunks)
    assert translator.usage is not None, "the receipt records usage all the same"


def test_a_forced_json_tool_streams_as_content() -> None:
    stream = b"".join(
        [
            start(),
            tool_start(0, "t", "count"),
            json_delta(0, '{"n":'),
            json_delta(0, "3}"),
            sse("message_delta", delta={"stop_reason": "tool_use"}, usage={"output_tokens": 3}),
            sse("message_stop"),
        ]
    )
    _, chunks = translate(stream, json_tool="count")
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks)
    assert text == '{"n":3}'
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"


def test_an_error_event_fails_the_stream() -> None:
    stream = sse("message_start", message={"id": "m", "model": "c"}) + sse(
        "error", error={"type": "overloaded_error", "message": "busy"}
    )
    translator, chunks = translate(stream)
    assert translator.failed
    assert not translator.done
    assert chunks[-1] == {
        "error": {"message": "busy", "type": "overloaded_error", "param": None, "code": None}
    }


def test_a_malformed_event_fails_the_stream_and_ends_translation() -> None:
    stream = start() + b'data: {"type": "content_blo\n\n' + sse("message_stop")
    translator, chunks = translate(stream)
    assert translator.failed
    assert not translator.done, "events after the malformed one are ignored"
    assert chunks[-1]["error"]["message"] == "the upstream sent a malformed event"
