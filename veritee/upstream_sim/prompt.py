"""The dialect-neutral view of a chat request that the content generator works from.

Each dialect parses its request body into a :class:`Prompt` (and raises
:class:`RequestInvalid` with the offending parameter when it cannot); the generator
never sees provider JSON.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import orjson


class RequestInvalid(ValueError):
    """A request the provider would reject with 400; ``param`` names the parameter."""

    def __init__(self, message: str, *, param: str | None = None, code: str | None = None) -> None:
        self.param = param
        self.code = code
        super().__init__(message)


class ToolMode(StrEnum):
    """How the request constrains tool use (both dialects map onto these)."""

    AUTO = "auto"
    NONE = "none"
    REQUIRED = "required"
    NAMED = "named"


class OutputMode(StrEnum):
    """What the content must be: free text, any JSON object, or an instance of a schema."""

    TEXT = "text"
    JSON_OBJECT = "json_object"
    JSON_SCHEMA = "json_schema"


@dataclass(frozen=True, eq=False)
class Tool:
    """A tool the model may call: its name and the JSON Schema of its arguments."""

    name: str
    schema: Mapping[str, Any]


@dataclass(frozen=True)
class CachedPrefix:
    """The part of a prompt marked for caching (Anthropic ``cache_control``)."""

    digest: bytes
    tokens: int


@dataclass(frozen=True, eq=False)
class Prompt:
    """Everything the generator needs.

    ``user_text`` is the text of the last user message with ``[[sim:...]]`` markers
    removed; ``tool_result`` is set when the conversation ends with tool results (the
    model then answers about them instead of calling tools again). ``digest`` seeds the
    generated words: it hashes the conversation (markers removed), so the same
    conversation gets the same words whether streamed or not and whatever its directives.
    """

    model: str
    user_text: str
    tool_result: str | None
    tools: tuple[Tool, ...]
    tool_mode: ToolMode
    tool_name: str | None
    parallel_tools: bool
    output_mode: OutputMode
    output_schema: Mapping[str, Any] | None
    max_tokens: int | None
    stop: tuple[str, ...]
    n: int
    prompt_tokens: int
    digest: bytes


def load_object(body: bytes, message: str) -> dict[str, Any]:
    """The JSON object of a request body; ``RequestInvalid(message)`` when it is not one."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        data = None
    if not isinstance(data, dict):
        raise RequestInvalid(message)
    return data


def count_tokens(text: str) -> int:
    """The simulator's tokenizer for prompts: one token per whitespace-separated word."""
    return len(text.split())


def count_blob_tokens(value: Any) -> int:
    """Tokens of structured prompt parts (tool definitions, images): one per 4 JSON bytes."""
    return (len(orjson.dumps(value, option=orjson.OPT_SORT_KEYS)) + 3) // 4


def conversation_digest(*parts: Any) -> bytes:
    """SHA-256 over the canonical JSON of the parts that define the conversation."""
    return hashlib.sha256(orjson.dumps(parts, option=orjson.OPT_SORT_KEYS)).digest()


def find_tool(tools: tuple[Tool, ...], name: str, *, param: str) -> str:
    """``name`` if it is one of ``tools``, else the provider's 400."""
    if any(tool.name == name for tool in tools):
        return name
    raise RequestInvalid(f"Tool '{name}' named in tool_choice is not in tools.", param=param)


def positive_int(body: Mapping[str, Any], key: str, *, minimum: int = 1) -> int | None:
    """An optional integer parameter of at least ``minimum``."""
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise RequestInvalid(
            f"Invalid '{key}': expected an integer >= {minimum}, got {value!r}.",
            param=key,
            code="invalid_value",
        )
    return value


def stop_list(value: Any, *, param: str) -> tuple[str, ...]:
    """A stop parameter as a tuple of non-empty strings (one string or a list)."""
    if value is None:
        return ()
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(s, str) and s for s in items):
        raise RequestInvalid(
            f"Invalid '{param}': expected a string or a list of strings.", param=param
        )
    return tuple(items)
