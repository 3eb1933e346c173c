"""The Anthropic dialect: Messages API calls for OpenAI chat completion requests.

Requests are translated by :mod:`enclave.dialects.anthropic_request`, streams by
:mod:`enclave.dialects.anthropic_stream`; this module holds the exchange and the
translation of whole answers and errors.
"""

from __future__ import annotations

from typing import Any

import orjson

from enclave.chat_request import ChatRequest
from enclave.dialects.anthropic_mapping import finish_reason, openai_usage
from enclave.dialects.anthropic_request import to_anthropic
from enclave.dialects.anthropic_stream import AnthropicStream
from enclave.dialects.base import (
    Answer,
    UpstreamCall,
    client_status,
    error_answer,
    flatten_usage,
    parse_object,
    receipt_text,
)
from enclave.envelope import JSON, envelope
from enclave.identity import Clock
from enclave.settings import UpstreamSettings


def anthropic_error(status: int, body: bytes) -> Answer:
    """An Anthropic error body (``{"type": "error", "error": {...}}``) as an OpenAI envelope."""
    parsed = parse_object(body)
    error = parsed.get("error") if parsed is not None else None
    if type(error) is dict and type(error.get("message")) is str:
        kind = error["type"] if type(error.get("type")) is str else "upstream_error"
        return Answer(
            client_status(status), envelope(error["message"], type=kind), "upstream_error"
        )
    return error_answer(client_status(status), f"the upstream answered HTTP {status}")


def from_anthropic(
    message: dict[str, Any], *, json_tool: str | None, created: int
) -> dict[str, Any]:
    """An OpenAI ``chat.completion`` from an Anthropic message; ValueError if malformed."""
    blocks = message.get("content")
    if type(blocks) is not list or type(message.get("id")) is not str:
        raise ValueError("the upstream message has no id or content")
    text: list[str] = []
    calls: list[dict[str, Any]] = []
    for block in blocks:
        kind = block.get("type") if type(block) is dict else None
        if kind == "text" and type(block.get("text")) is str:
            text.append(block["text"])
        elif kind == "tool_use":
            arguments = orjson.dumps(block.get("input", {})).decode()
            if json_tool is not None and block.get("name") == json_tool:
                text.append(arguments)
                continue
            calls.append(
                {
                    "id": block.get("id"),
                    "type": "function",
                    "function": {"name": block.get("name"), "arguments": arguments},
                }
            )
    reply: dict[str, Any] = {
        "role": "assistant",
        "content": "".join(text) if text else None,
        "refusal": None,
    }
    if calls:
        reply["tool_calls"] = calls
    reason = finish_reason(message.get("stop_reason"))
    if json_tool is not None and reason == "tool_calls" and not calls:
        reason = "stop"
    return {
        "id": message["id"],
        "object": "chat.completion",
        "created": created,
        "model": message.get("model"),
        "choices": [{"index": 0, "message": reply, "logprobs": None, "finish_reason": reason}],
        "usage": openai_usage(message.get("usage")),
    }


class AnthropicExchange:
    def __init__(self, request: ChatRequest, upstream: UpstreamSettings, clock: Clock) -> None:
        body, self._json_tool = to_anthropic(
            request.data, default_max_tokens=upstream.default_max_tokens
        )
        self._request = request
        self._clock = clock
        self.call = UpstreamCall(
            url=upstream.base_url + "/messages",
            headers={
                "x-api-key": upstream.api_key,
                "anthropic-version": upstream.anthropic_version,
                "content-type": JSON,
                "accept": "text/event-stream" if request.stream else JSON,
                "accept-encoding": "identity",
            },
            body=orjson.dumps(body),
        )

    def answer(self, status: int, body: bytes) -> Answer:
        if not 200 <= status <= 299:
            return anthropic_error(status, body)
        parsed = parse_object(body)
        try:
            if parsed is None:
                raise ValueError("not a JSON object")
            out = from_anthropic(parsed, json_tool=self._json_tool, created=self._clock() // 1000)
        except ValueError:
            return error_answer(502, "the upstream answered with a malformed message")
        return Answer(
            http_status=200,
            body=orjson.dumps(out),
            status="complete",
            usage=flatten_usage(out["usage"]),
            upstream_model=receipt_text(parsed.get("model")),
        )

    def translator(self) -> AnthropicStream:
        return AnthropicStream(
            include_usage=self._request.include_usage,
            json_tool=self._json_tool,
            created=self._clock() // 1000,
        )
