"""Parse a chat completion request once, at the edge, into an immutable :class:`ChatRequest`.

Only the fields the enclave itself interprets are checked here (``model``, ``messages``,
``stream``, ``stream_options``) plus the two veritee headers. Everything else is the
upstream's to judge: the OpenAI dialect forwards the exact bytes received, and the
Anthropic dialect checks what it translates (:mod:`enclave.dialects.anthropic_request`).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

import orjson

from enclave.errors import bad_request
from transcript.receipt_schema import MAX_TEXT

NONCE_HEADER = "veritee-nonce"
CALLER_HEADER = "veritee-caller"
MAX_BINDING = 256
_BINDING = re.compile(rf"[\x21-\x7e]{{1,{MAX_BINDING}}}")  # printable ASCII, no spaces


@dataclass(frozen=True, slots=True)
class ChatRequest:
    raw: bytes
    sha256: str
    data: dict[str, Any]
    model: str
    stream: bool
    include_usage: bool
    client_nonce: str | None
    caller: str | None


def parse_chat_request(raw: bytes, *, nonce: list[str], caller: list[str]) -> ChatRequest:
    """Check ``raw`` (the exact body received) and the veritee header values.

    ``nonce`` and ``caller`` are every value of those headers (a header sent twice is bad
    input). Raises :class:`enclave.errors.ApiError` (400) naming the offending field.
    """
    client_nonce = _binding(nonce, NONCE_HEADER)
    client_caller = _binding(caller, CALLER_HEADER)
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as bad:
            raise bad_request(
                f"the request body is not valid UTF-8 (byte offset {bad.start})",
                code="invalid_utf8",
            ) from None
        raise bad_request(
            f"the request body is not valid JSON: {exc}", code="invalid_json"
        ) from None
    if type(data) is not dict:
        raise bad_request("the request body must be a JSON object", code="invalid_type")
    model = data.get("model")
    if type(model) is not str or not 0 < len(model) <= MAX_TEXT:
        raise bad_request(
            f"'model' must be a string of 1 to {MAX_TEXT} characters",
            param="model",
            code="invalid_type",
        )
    _messages(data.get("messages"))
    stream = data.get("stream")
    if stream is not None and type(stream) is not bool:
        raise bad_request("'stream' must be a boolean", param="stream", code="invalid_type")
    options = data.get("stream_options")
    include_usage = False
    if options is not None:
        if type(options) is not dict:
            raise bad_request(
                "'stream_options' must be an object", param="stream_options", code="invalid_type"
            )
        usage = options.get("include_usage")
        if usage is not None and type(usage) is not bool:
            raise bad_request(
                "'stream_options.include_usage' must be a boolean",
                param="stream_options.include_usage",
                code="invalid_type",
            )
        include_usage = bool(usage)
    return ChatRequest(
        raw=raw,
        sha256=hashlib.sha256(raw).hexdigest(),
        data=data,
        model=model,
        stream=bool(stream),
        include_usage=include_usage,
        client_nonce=client_nonce,
        caller=client_caller,
    )


def _messages(messages: object) -> None:
    if type(messages) is not list or not messages:
        raise bad_request(
            "'messages' must be a non-empty array", param="messages", code="invalid_type"
        )
    for i, message in enumerate(messages):
        if type(message) is not dict or type(message.get("role")) is not str:
            raise bad_request(
                "each message must be an object with a string 'role'",
                param=f"messages[{i}]",
                code="invalid_type",
            )


def _binding(values: list[str], header: str) -> str | None:
    if not values:
        return None
    if len(values) > 1:
        raise bad_request(
            f"the {header} header may be sent once", param=header, code="invalid_header"
        )
    value = values[0]
    if _BINDING.fullmatch(value) is None:
        raise bad_request(
            f"the {header} header must be 1 to {MAX_BINDING} printable ASCII characters "
            "without spaces",
            param=header,
            code="invalid_header",
        )
    return value
