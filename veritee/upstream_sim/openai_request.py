"""Parsing ``POST /v1/chat/completions`` bodies, with OpenAI's 400 messages."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from veritee.upstream_sim.dialect import ParsedChat
from veritee.upstream_sim.directives import NO_DIRECTIVES, extract_markers
from veritee.upstream_sim.prompt import (
    OutputMode,
    Prompt,
    RequestInvalid,
    Tool,
    ToolMode,
    conversation_digest,
    count_blob_tokens,
    count_tokens,
    find_tool,
    load_object,
    positive_int,
    stop_list,
)

_NOT_JSON = (
    "We could not parse the JSON body of your request. (HINT: This likely means you aren't "
    "using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was "
    "sent was not valid JSON.)"
)
_ROLES = frozenset({"system", "developer", "user", "assistant", "tool", "function"})


def parse_chat(body: bytes) -> ParsedChat:
    """A chat completion request as :class:`ParsedChat`, or ``RequestInvalid``."""
    data = load_object(body, _NOT_JSON)
    model = data.get("model")
    if not isinstance(model, str) or not model:
        raise RequestInvalid("you must provide a model parameter")
    texts, prompt_tokens = _messages(data.get("messages"))
    roles = [m["role"] for m in data["messages"]]
    user_index = max((i for i, r in enumerate(roles) if r == "user"), default=None)
    markers = NO_DIRECTIVES
    if user_index is not None:
        texts[user_index], markers = extract_markers(texts[user_index])
    tools = _tools(data.get("tools"))
    mode, name = _tool_choice(data.get("tool_choice"), tools)
    output_mode, schema = _response_format(data.get("response_format"))
    stream, include_usage = _stream(data)
    prompt_tokens += sum(count_blob_tokens(t.schema) + count_tokens(t.name) for t in tools)
    prompt = Prompt(
        model=model,
        user_text=texts[user_index] if user_index is not None else "",
        tool_result=_trailing_tool_results(roles, texts),
        tools=tools,
        tool_mode=mode,
        tool_name=name,
        parallel_tools=data.get("parallel_tool_calls", True) is not False,
        output_mode=output_mode,
        output_schema=schema,
        max_tokens=_max_tokens(data),
        stop=_stop(data.get("stop")),
        n=_n(data),
        prompt_tokens=prompt_tokens + (count_blob_tokens(schema) if schema else 0),
        digest=conversation_digest(list(zip(roles, texts, strict=True)), [t.name for t in tools]),
    )
    return ParsedChat(prompt, markers, stream, include_usage)


def _messages(messages: Any) -> tuple[list[str], int]:
    """The text of each message and the prompt token count."""
    if messages is None:
        raise RequestInvalid(
            "Missing required parameter: 'messages'.",
            param="messages",
            code="missing_required_parameter",
        )
    if not isinstance(messages, list) or not messages:
        raise RequestInvalid(
            "Invalid 'messages': empty array. Expected an array with minimum length 1.",
            param="messages",
            code="empty_array",
        )
    texts, tokens = [], 3
    for index, message in enumerate(messages):
        if not isinstance(message, dict) or message.get("role") not in _ROLES:
            raise RequestInvalid(
                f"Invalid value for 'messages[{index}].role'.",
                param=f"messages[{index}].role",
                code="invalid_value",
            )
        text, blobs = _content(message.get("content"), index)
        texts.append(text)
        tokens += 3 + count_tokens(text) + blobs
        if message.get("tool_calls"):
            tokens += count_blob_tokens(message["tool_calls"])
    return texts, tokens


def _content(content: Any, index: int) -> tuple[str, int]:
    """(text, tokens of non-text parts) of a message's content."""
    if content is None or isinstance(content, str):
        return content or "", 0
    if not isinstance(content, list):
        raise RequestInvalid(
            f"Invalid type for 'messages[{index}].content'.",
            param=f"messages[{index}].content",
            code="invalid_type",
        )
    texts, blobs = [], 0
    for part in content:
        if isinstance(part, dict) and part.get("type") == "text":
            texts.append(str(part.get("text", "")))
        else:
            blobs += count_blob_tokens(part)
    return "\n".join(texts), blobs


def _trailing_tool_results(roles: list[str], texts: list[str]) -> str | None:
    results: list[str] = []
    for role, text in zip(reversed(roles), reversed(texts), strict=True):
        if role not in ("tool", "function"):
            break
        results.insert(0, text)
    return " ".join(results) if results else None


def _tools(tools: Any) -> tuple[Tool, ...]:
    if tools is None:
        return ()
    if not isinstance(tools, list):
        raise RequestInvalid("Invalid type for 'tools': expected an array.", param="tools")
    out = []
    for index, tool in enumerate(tools):
        function = tool.get("function") if isinstance(tool, dict) else None
        name = function.get("name") if isinstance(function, dict) else None
        if not isinstance(name, str) or not name:
            raise RequestInvalid(
                f"Missing required parameter: 'tools[{index}].function.name'.",
                param=f"tools[{index}].function.name",
                code="missing_required_parameter",
            )
        assert isinstance(function, dict)
        schema = function.get("parameters")
        out.append(Tool(name, schema if isinstance(schema, Mapping) else {}))
    return tuple(out)


def _tool_choice(choice: Any, tools: tuple[Tool, ...]) -> tuple[ToolMode, str | None]:
    if choice is None:
        return (ToolMode.AUTO if tools else ToolMode.NONE), None
    if choice in ("none", "auto", "required"):
        if choice != "none" and not tools:
            raise RequestInvalid(
                "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' "
                "are specified.",
                param="tool_choice",
            )
        return ToolMode(choice), None
    function = choice.get("function") if isinstance(choice, dict) else None
    name = function.get("name") if isinstance(function, dict) else None
    if not isinstance(name, str):
        raise RequestInvalid("Invalid value for 'tool_choice'.", param="tool_choice")
    return ToolMode.NAMED, find_tool(tools, name, param="tool_choice")


def _response_format(value: Any) -> tuple[OutputMode, Mapping[str, Any] | None]:
    if value is None:
        return OutputMode.TEXT, None
    kind = value.get("type") if isinstance(value, dict) else None
    if kind == "text":
        return OutputMode.TEXT, None
    if kind == "json_object":
        return OutputMode.JSON_OBJECT, None
    if kind == "json_schema":
        spec = value.get("json_schema")
        schema = spec.get("schema") if isinstance(spec, dict) else None
        if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
            raise RequestInvalid(
                "Missing required parameter: 'response_format.json_schema.name'.",
                param="response_format.json_schema.name",
                code="missing_required_parameter",
            )
        return OutputMode.JSON_SCHEMA, schema if isinstance(schema, dict) else {}
    raise RequestInvalid("Invalid value for 'response_format.type'.", param="response_format.type")


def _stream(data: Mapping[str, Any]) -> tuple[bool, bool]:
    stream = data.get("stream") is True
    options = data.get("stream_options")
    if options is not None and not stream:
        raise RequestInvalid(
            "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
            param="stream_options",
        )
    include = isinstance(options, dict) and options.get("include_usage") is True
    return stream, include


def _max_tokens(data: Mapping[str, Any]) -> int | None:
    explicit = positive_int(data, "max_completion_tokens")
    return explicit if explicit is not None else positive_int(data, "max_tokens")


def _stop(value: Any) -> tuple[str, ...]:
    stops = stop_list(value, param="stop")
    if len(stops) > 4:
        raise RequestInvalid("Invalid 'stop': at most 4 stop sequences.", param="stop")
    return stops


def _n(data: Mapping[str, Any]) -> int:
    n = positive_int(data, "n") or 1
    if n > 128:
        raise RequestInvalid("Invalid 'n': integer above maximum value of 128.", param="n")
    return n
