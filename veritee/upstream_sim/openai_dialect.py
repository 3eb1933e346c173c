"""OpenAI's Chat Completions API as the simulator speaks it: bodies, chunks, errors, models."""

from __future__ import annotations

from typing import Any

import orjson

from veritee.upstream_sim.content import (
    Completion,
    Finish,
    argument_fragments,
    generate,
    pieces,
)
from veritee.upstream_sim.dialect import Exchange, ParsedChat
from veritee.upstream_sim.errors import ErrorKind, SimError
from veritee.upstream_sim.http import Headers, Request
from veritee.upstream_sim.openai_request import parse_chat
from veritee.upstream_sim.reply import JSON, SSE, Reply, sse_event

MODELS = ("gpt-4o", "gpt-4o-mini", "gpt-4.1", "gpt-4.1-mini", "o4-mini", "sim-model")
_FINISH = {
    Finish.STOP: "stop",
    Finish.LENGTH: "length",
    Finish.TOOL_CALLS: "tool_calls",
    Finish.STOP_SEQUENCE: "stop",
}
_ERROR_TYPES = {
    ErrorKind.INVALID_REQUEST: "invalid_request_error",
    ErrorKind.AUTHENTICATION: "invalid_request_error",
    ErrorKind.NOT_FOUND: "invalid_request_error",
    ErrorKind.METHOD_NOT_ALLOWED: "invalid_request_error",
    ErrorKind.RATE_LIMITED: "requests",
    ErrorKind.SERVER: "server_error",
    ErrorKind.OVERLOADED: "server_error",
}
_DONE = b"data: [DONE]\n\n"


class OpenAIDialect:
    """``POST /v1/chat/completions`` and ``GET /v1/models`` in OpenAI's wire format."""

    name = "openai"

    def parse(self, request: Request) -> ParsedChat:
        return parse_chat(request.body)

    def render(self, chat: ParsedChat, exchange: Exchange) -> Reply:
        prompt = chat.prompt
        choices = [generate(prompt, choice=i, words=exchange.words) for i in range(prompt.n)]
        usage = _usage(prompt.prompt_tokens, sum(c.output_tokens for c in choices))
        if chat.stream:
            groups = _Stream(chat, exchange).groups(choices, usage)
            return Reply(200, _headers(exchange, SSE), groups=groups)
        body = {
            "id": exchange.ids.completion_id,
            "object": "chat.completion",
            "created": exchange.created,
            "model": prompt.model,
            "choices": [
                _choice(i, c, exchange, _call_base(choices, i)) for i, c in enumerate(choices)
            ],
            "usage": usage,
            "service_tier": "default",
            "system_fingerprint": exchange.fingerprint,
        }
        return Reply(200, _headers(exchange, JSON), orjson.dumps(body))

    def error(self, error: SimError, exchange: Exchange) -> Reply:
        body = {
            "error": {
                "message": error.message,
                "type": _ERROR_TYPES[error.kind],
                "param": error.param,
                "code": error.code,
            }
        }
        headers = _headers(exchange, JSON)
        if error.retry_after is not None:
            headers += (("retry-after", str(error.retry_after)),)
        return Reply(error.kind.value, headers, orjson.dumps(body))

    def models(self, exchange: Exchange, model: str | None) -> Reply:
        def entry(model_id: str) -> dict[str, Any]:
            return {"id": model_id, "object": "model", "created": 1700000000, "owned_by": "system"}

        body = entry(model) if model else {"object": "list", "data": [entry(m) for m in MODELS]}
        return Reply(200, _headers(exchange, JSON), orjson.dumps(body))


def _headers(exchange: Exchange, content_type: str) -> Headers:
    return (
        ("content-type", content_type),
        ("x-request-id", exchange.ids.request_id),
        ("openai-processing-ms", str(exchange.latency_ms)),
        ("openai-version", "2020-10-01"),
        ("openai-organization", "veritee-upstream-sim"),
    )


def _usage(prompt_tokens: int, completion_tokens: int) -> dict[str, Any]:
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def _call_base(choices: list[Completion], index: int) -> int:
    """Tool call ids are numbered across choices; this choice's first number."""
    return sum(len(c.tool_calls) for c in choices[:index])


def _choice(index: int, completion: Completion, exchange: Exchange, base: int) -> dict[str, Any]:
    message: dict[str, Any] = {
        "role": "assistant",
        "content": None if completion.tool_calls else completion.text,
        "refusal": None,
        "annotations": [],
    }
    if completion.tool_calls:
        message["tool_calls"] = [
            {
                "id": exchange.ids.tool_call_id(base + k),
                "type": "function",
                "function": {"name": call.name, "arguments": call.arguments},
            }
            for k, call in enumerate(completion.tool_calls)
        ]
    return {
        "index": index,
        "message": message,
        "logprobs": None,
        "finish_reason": _FINISH[completion.finish],
    }


class _Stream:
    """``chat.completion.chunk`` objects, grouped by step of the stream."""

    def __init__(self, chat: ParsedChat, exchange: Exchange) -> None:
        self._exchange = exchange
        self._include_usage = chat.include_usage
        # Every chunk is this prefix, the choices, and the suffix (serialised once).
        head = {
            "id": exchange.ids.completion_id,
            "object": "chat.completion.chunk",
            "created": exchange.created,
            "model": chat.prompt.model,
            "service_tier": "default",
            "system_fingerprint": exchange.fingerprint,
        }
        self._prefix = orjson.dumps(head)[:-1] + b',"choices":'
        self._suffix = b',"usage":null}' if chat.include_usage else b"}"

    def groups(self, choices: list[Completion], usage: dict[str, Any]) -> tuple[bytes, ...]:
        steps = [self._steps(i, c, _call_base(choices, i)) for i, c in enumerate(choices)]
        first = b"".join(
            self._chunk(i, {"role": "assistant", "content": "", "refusal": None})
            for i, c in enumerate(choices)
            if not c.tool_calls
        )
        out = [first]
        for step in range(max((len(s) for s in steps), default=0)):
            group = b"".join(chunks[step] for chunks in steps if step < len(chunks))
            if step:
                out.append(group)
            else:
                out[0] += group
        tail = b"".join(self._chunk(i, {}, _FINISH[c.finish]) for i, c in enumerate(choices))
        if self._include_usage:
            tail += self._usage_chunk(usage)
        return (*out, tail + _DONE)

    def _steps(self, index: int, completion: Completion, base: int) -> list[bytes]:
        """The chunks of one choice after its role chunk, as SSE events."""
        chunks = self._exchange.chunks
        if not completion.tool_calls:
            # The hot path of streaming benchmarks: a template instead of a dict per chunk.
            before = self._prefix + b'[{"index":%d,"delta":{"content":' % index
            after = b'},"logprobs":null,"finish_reason":null}]' + self._suffix
            return [
                sse_event(before + orjson.dumps(piece) + after)
                for piece in pieces(completion.tokens, chunks)
            ]
        steps: list[dict[str, Any]] = []
        for k, call in enumerate(completion.tool_calls):
            opening = {
                "index": k,
                "id": self._exchange.ids.tool_call_id(base + k),
                "type": "function",
                "function": {"name": call.name, "arguments": ""},
            }
            delta: dict[str, Any] = {"tool_calls": [opening]}
            if k == 0:
                delta = {"role": "assistant", "content": None, **delta, "refusal": None}
            steps.append(delta)
            steps.extend(
                {"tool_calls": [{"index": k, "function": {"arguments": fragment}}]}
                for fragment in argument_fragments(call.arguments, chunks)
            )
        return [self._chunk(index, delta) for delta in steps]

    def _chunk(self, index: int, delta: dict[str, Any], finish: str | None = None) -> bytes:
        choice = {"index": index, "delta": delta, "logprobs": None, "finish_reason": finish}
        return sse_event(self._prefix + orjson.dumps([choice]) + self._suffix)

    def _usage_chunk(self, usage: dict[str, Any]) -> bytes:
        return sse_event(self._prefix + b'[],"usage":' + orjson.dumps(usage) + b"}")
