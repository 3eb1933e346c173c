"""The OpenAI dialect: forward the exact request bytes, pass the answer through.

Any OpenAI-compatible ``/chat/completions`` works. The request body goes upstream byte
for byte, so every field (tools, ``response_format``, ``logprobs``, vendor extensions)
keeps its meaning. Successful answers and stream events reach the client unchanged; the
enclave only reads them to record usage, the upstream model, and whether the stream
ended with ``[DONE]``. Upstream error bodies that are an OpenAI envelope pass through;
anything else is wrapped in one.
"""

from __future__ import annotations

from typing import Any

import orjson

from enclave.chat_request import ChatRequest
from enclave.dialects.base import (
    Answer,
    UpstreamCall,
    client_status,
    error_answer,
    flatten_usage,
    parse_object,
    receipt_text,
)
from enclave.settings import UpstreamSettings
from enclave.sse import SseEvent


class OpenAIExchange:
    def __init__(self, request: ChatRequest, upstream: UpstreamSettings) -> None:
        self.call = UpstreamCall(
            url=upstream.base_url + "/chat/completions",
            headers={
                "authorization": f"Bearer {upstream.api_key}",
                "content-type": "application/json",
                "accept": "text/event-stream" if request.stream else "application/json",
                "accept-encoding": "identity",
            },
            body=request.raw,
        )

    def answer(self, status: int, body: bytes) -> Answer:
        parsed = parse_object(body)
        if not 200 <= status <= 299:
            if parsed is not None and type(parsed.get("error")) is dict:
                return Answer(client_status(status), body, "upstream_error")
            return error_answer(client_status(status), f"the upstream answered HTTP {status}")
        if parsed is None:
            return error_answer(502, "the upstream answered with malformed JSON")
        return Answer(
            http_status=200,
            body=body,
            status="complete",
            usage=flatten_usage(parsed.get("usage")),
            upstream_model=receipt_text(parsed.get("model")),
        )

    def translator(self) -> PassThrough:
        return PassThrough()


class PassThrough:
    """Forwards every upstream event unchanged except ``[DONE]``, which the proxy adds.

    The stream ``failed`` when the upstream sent an error chunk or a ``data`` line that is
    not a JSON object; either is still forwarded byte for byte.
    """

    __slots__ = ("done", "failed", "upstream_model", "usage")

    @property
    def ended(self) -> bool:
        return self.done

    def __init__(self) -> None:
        self.done = False
        self.failed = False
        self.usage: dict[str, int] | None = None
        self.upstream_model: str | None = None

    def feed(self, event: SseEvent) -> bytes:
        data = event.data
        if data is None or self.done:
            return b"" if self.done else event.raw
        if data == b"[DONE]":
            self.done = True
            return b""
        try:
            chunk: Any = orjson.loads(data)
        except orjson.JSONDecodeError:
            chunk = None
        if type(chunk) is not dict:
            self.failed = True  # forwarded as sent; the receipt says the upstream misbehaved
        else:
            if self.upstream_model is None:
                self.upstream_model = receipt_text(chunk.get("model"))
            if chunk.get("error") is not None:
                self.failed = True
            usage = chunk.get("usage")
            if usage is not None:
                self.usage = flatten_usage(usage)
        return event.raw
