"""The shapes every dialect produces, and helpers they share.

A dialect turns a :class:`enclave.chat_request.ChatRequest` into an :class:`Exchange`:
the upstream call to make, how to turn a whole upstream body into the client's
:class:`Answer`, and a :class:`StreamTranslator` that turns upstream SSE events into the
bytes of OpenAI ``chat.completion.chunk`` events.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import orjson

from enclave.envelope import envelope
from enclave.sse import SseEvent, data_event
from transcript.hexfields import MAX_JSON_INT
from transcript.receipt import Status
from transcript.receipt_schema import MAX_TEXT


@dataclass(frozen=True, slots=True)
class UpstreamCall:
    url: str
    headers: Mapping[str, str]
    body: bytes


@dataclass(frozen=True, slots=True)
class Answer:
    """What the client gets for a non-streamed exchange, and what the receipt records."""

    http_status: int
    body: bytes
    status: Status
    usage: dict[str, int] | None = None
    upstream_model: str | None = None


class StreamTranslator(Protocol):
    @property
    def done(self) -> bool:
        """The upstream ended the stream properly (``[DONE]``, ``message_stop``)."""
        ...

    @property
    def failed(self) -> bool:
        """The upstream reported an error or sent a malformed event (the client has seen it)."""
        ...

    @property
    def ended(self) -> bool:
        """Nothing more will be forwarded: the proxy stops reading and signs now."""
        ...

    @property
    def usage(self) -> dict[str, int] | None: ...

    @property
    def upstream_model(self) -> str | None: ...

    def feed(self, event: SseEvent) -> bytes:
        """The client bytes (whole SSE events) for one upstream event; may be empty."""
        ...


class Exchange(Protocol):
    call: UpstreamCall

    def answer(self, status: int, body: bytes) -> Answer:
        """The client's answer for a whole upstream body with HTTP ``status``."""
        ...

    def translator(self) -> StreamTranslator: ...


def client_status(upstream_status: int) -> int:
    """The status the client sees for an upstream error status.

    4xx and 5xx pass through (a 429 stays retryable for the client's SDK), except 401 and
    403: those concern the enclave's own provider credentials, not the caller's, so they
    become 502. Anything else that is not a success (1xx, 3xx) is a 502 as well.
    """
    if upstream_status in (401, 403) or not 400 <= upstream_status <= 599:
        return 502
    return upstream_status


def error_answer(status: int, message: str, *, code: str | None = None) -> Answer:
    body = envelope(message, type="upstream_error", code=code)
    return Answer(http_status=status, body=body, status="upstream_error")


def error_event(message: str, *, type: str, code: str | None = None) -> bytes:
    """An OpenAI-style in-stream error: ``data: {"error": {...}}``."""
    return data_event(envelope(message, type=type, code=code))


def parse_object(body: bytes) -> dict[str, Any] | None:
    """A JSON object, or None for anything else (bad JSON, arrays, scalars)."""
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    return value if type(value) is dict else None


def flatten_usage(usage: object) -> dict[str, int] | None:
    """OpenAI ``usage`` as the receipt records it: integer leaves under dotted keys.

    ``{"prompt_tokens": 9, "prompt_tokens_details": {"cached_tokens": 4}}`` becomes
    ``{"prompt_tokens": 9, "prompt_tokens_details.cached_tokens": 4}``. Values that are
    not JSON-safe non-negative integers are left out, and so is anything beyond
    ``MAX_USAGE_KEYS`` keys: the upstream cannot make a receipt unsignable or huge.
    """
    if type(usage) is not dict:
        return None
    flat: dict[str, int] = {}
    for key, value in usage.items():
        if type(value) is dict:
            for sub, inner in value.items():
                _usage_leaf(flat, f"{key}.{sub}", inner)
        else:
            _usage_leaf(flat, key, value)
    return flat


MAX_USAGE_KEYS = 32


def _usage_leaf(flat: dict[str, int], key: str, value: object) -> None:
    if (
        type(value) is int
        and 0 <= value <= MAX_JSON_INT
        and len(flat) < MAX_USAGE_KEYS
        and 0 < len(key) <= 64
        and key.isascii()
    ):
        flat[key] = value


def receipt_text(value: object) -> str | None:
    """``value`` if it fits a receipt text field (a non-empty string of <= 1024 chars)."""
    if type(value) is str and 0 < len(value) <= MAX_TEXT:
        return value
    return None
