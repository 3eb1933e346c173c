"""Anthropic's Messages API as the simulator speaks it: messages, events, errors, models."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import orjson

from veritee.upstream_sim.anthropic_request import parse_messages
from veritee.upstream_sim.content import Completion, Finish, argument_fragments, generate, pieces
from veritee.upstream_sim.dialect import Exchange, ParsedChat
from veritee.upstream_sim.errors import ErrorKind, SimError
from veritee.upstream_sim.http import Headers, Request
from veritee.upstream_sim.prompt import RequestInvalid
from veritee.upstream_sim.reply import JSON, SSE, Reply, sse_event

MODELS = (
    ("claude-sonnet-4-6", "Claude Sonnet 4.6"),
    ("claude-opus-4-6", "Claude Opus 4.6"),
    ("claude-haiku-4-5-20251001", "Claude Haiku 4.5"),
    ("sim-model", "Simulated model"),
)
_STOP = {
    Finish.STOP: "end_turn",
    Finish.LENGTH: "max_tokens",
    Finish.TOOL_CALLS: "tool_use",
    Finish.STOP_SEQUENCE: "stop_sequence",
}
_ERROR_TYPES = {
    ErrorKind.INVALID_REQUEST: "invalid_request_error",
    ErrorKind.AUTHENTICATION: "authentication_error",
    ErrorKind.NOT_FOUND: "not_found_error",
    ErrorKind.METHOD_NOT_ALLOWED: "invalid_request_error",
    ErrorKind.RATE_LIMITED: "rate_limit_error",
    ErrorKind.SERVER: "api_error",
    ErrorKind.OVERLOADED: "overloaded_error",
}
_CACHE_ENTRIES = 4096
_DELTA_EVENT = (
    b'event: content_block_delta\ndata: {"type":"content_block_delta","index":%d,"delta":'
)
_DELTA_USAGE = (
    "input_tokens",
    "cache_creation_input_tokens",
    "cache_read_input_tokens",
    "output_tokens",
)


class AnthropicDialect:
    """``POST /v1/messages`` and ``GET /v1/models`` in Anthropic's wire format.

    Holds the one piece of state in the simulator: which cached prefixes it has seen. The
    first request with a given prefix reports ``cache_creation_input_tokens``, later ones
    ``cache_read_input_tokens`` (the only way two identical requests differ in content).
    """

    name = "anthropic"

    def __init__(self) -> None:
        self._seen: OrderedDict[bytes, None] = OrderedDict()

    def parse(self, request: Request) -> ParsedChat:
        if not request.headers.get("anthropic-version"):
            raise RequestInvalid("anthropic-version: header is required")
        return parse_messages(request.body)

    def render(self, chat: ParsedChat, exchange: Exchange) -> Reply:
        completion = generate(chat.prompt, words=exchange.words, tool_preamble=True)
        usage = self._usage(chat, completion)
        if chat.stream:
            groups = _stream_groups(chat, completion, exchange, usage)
            return Reply(200, _headers(exchange, SSE), groups=groups)
        body = {
            **_message(chat, exchange, usage),
            "content": _content(completion, exchange),
            "stop_reason": _STOP[completion.finish],
            "stop_sequence": completion.stop_sequence,
        }
        return Reply(200, _headers(exchange, JSON), orjson.dumps(body))

    def error(self, error: SimError, exchange: Exchange) -> Reply:
        body = {
            "type": "error",
            "error": {"type": _ERROR_TYPES[error.kind], "message": error.message},
            "request_id": exchange.ids.request_id,
        }
        headers = _headers(exchange, JSON)
        if error.retry_after is not None:
            headers += (("retry-after", str(error.retry_after)),)
        if error.kind is ErrorKind.OVERLOADED:
            headers += (("x-should-retry", "true"),)
        return Reply(error.kind.value, headers, orjson.dumps(body))

    def models(self, exchange: Exchange, model: str | None) -> Reply:
        def entry(model_id: str, name: str) -> dict[str, Any]:
            created = "2025-01-01T00:00:00Z"
            return {"type": "model", "id": model_id, "display_name": name, "created_at": created}

        if model:
            body: dict[str, Any] = entry(model, dict(MODELS).get(model, model))
        else:
            data = [entry(m, n) for m, n in MODELS]
            body = {"data": data, "has_more": False, "first_id": MODELS[0][0]}
            body["last_id"] = MODELS[-1][0]
        return Reply(200, _headers(exchange, JSON), orjson.dumps(body))

    def _usage(self, chat: ParsedChat, completion: Completion) -> dict[str, Any]:
        cached = chat.cached
        created = read = 0
        if cached is not None:
            if cached.digest in self._seen:
                read = cached.tokens
                self._seen.move_to_end(cached.digest)
            else:
                created = cached.tokens
                self._seen[cached.digest] = None
                if len(self._seen) > _CACHE_ENTRIES:
                    self._seen.popitem(last=False)
        return {
            "input_tokens": chat.prompt.prompt_tokens - created - read,
            "cache_creation_input_tokens": created,
            "cache_read_input_tokens": read,
            "cache_creation": {
                "ephemeral_5m_input_tokens": created,
                "ephemeral_1h_input_tokens": 0,
            },
            "output_tokens": completion.output_tokens,
            "service_tier": "standard",
        }


def _headers(exchange: Exchange, content_type: str) -> Headers:
    return (
        ("content-type", content_type),
        ("request-id", exchange.ids.request_id),
        ("anthropic-organization-id", "00000000-0000-4000-8000-00000000517e"),
    )


def _message(chat: ParsedChat, exchange: Exchange, usage: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": exchange.ids.message_id,
        "type": "message",
        "role": "assistant",
        "model": chat.prompt.model,
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": usage,
    }


def _content(completion: Completion, exchange: Exchange) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    if completion.tokens:
        blocks.append({"type": "text", "text": completion.text})
    for k, call in enumerate(completion.tool_calls):
        try:
            arguments = orjson.loads(call.arguments)
        except orjson.JSONDecodeError:  # cut short by max_tokens
            arguments = {}
        block = {"type": "tool_use", "id": exchange.ids.tool_use_id(k), "name": call.name}
        blocks.append({**block, "input": arguments})
    return blocks


def _event(kind: str, payload: dict[str, Any]) -> bytes:
    return sse_event(orjson.dumps({"type": kind, **payload}), kind)


def _stream_groups(
    chat: ParsedChat, completion: Completion, exchange: Exchange, usage: dict[str, Any]
) -> tuple[bytes, ...]:
    """message_start, then per block content_block_start/deltas/stop, then the end."""
    start_usage = {**usage, "output_tokens": 1}
    preamble = _event("message_start", {"message": _message(chat, exchange, start_usage)})
    blocks: list[tuple[dict[str, Any], list[dict[str, Any]]]] = []
    if completion.tokens:
        deltas = [
            {"type": "text_delta", "text": p} for p in pieces(completion.tokens, exchange.chunks)
        ]
        blocks.append(({"type": "text", "text": ""}, deltas))
    for k, call in enumerate(completion.tool_calls):
        head = {
            "type": "tool_use",
            "id": exchange.ids.tool_use_id(k),
            "name": call.name,
            "input": {},
        }
        fragments = argument_fragments(call.arguments, exchange.chunks) or [""]
        blocks.append((head, [{"type": "input_json_delta", "partial_json": f} for f in fragments]))
    groups: list[bytes] = []
    pending = preamble
    for index, (head, deltas) in enumerate(blocks):
        if index:
            pending = _event("content_block_stop", {"index": index - 1})
        pending += _event("content_block_start", {"index": index, "content_block": head})
        if not groups:
            pending += _event("ping", {})
        prefix = _DELTA_EVENT % index
        for delta in deltas:
            groups.append(pending + prefix + orjson.dumps(delta) + b"}\n\n")
            pending = b""
    tail = pending if not groups else b""
    if not groups:
        tail += _event("ping", {})
    if blocks:
        tail += _event("content_block_stop", {"index": len(blocks) - 1})
    stop = {"stop_reason": _STOP[completion.finish], "stop_sequence": completion.stop_sequence}
    end_usage = {k: usage[k] for k in _DELTA_USAGE}
    tail += _event("message_delta", {"delta": stop, "usage": end_usage})
    tail += _event("message_stop", {})
    return (*groups, tail)
