"""Parsing ``POST /v1/messages`` bodies, with Anthropic's 400 messages.

Besides the neutral prompt, the parser finds the *cached prefix*: every prompt part (tools,
then system blocks, then message blocks) up to the last one with ``cache_control``. Its
digest and token count drive ``cache_creation_input_tokens``/``cache_read_input_tokens``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from veritee.upstream_sim.dialect import ParsedChat
from veritee.upstream_sim.directives import NO_DIRECTIVES, extract_markers
from veritee.upstream_sim.prompt import (
    CachedPrefix,
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


class _Parts:
    """Prompt parts in cache order, each with its token count and cache mark."""

    def __init__(self) -> None:
        self.items: list[tuple[Any, int, bool]] = []

    def add(self, value: Any, tokens: int, block: Any) -> None:
        marked = isinstance(block, Mapping) and block.get("cache_control") is not None
        self.items.append((value, tokens, marked))

    def total(self) -> int:
        return sum(tokens for _, tokens, _ in self.items)

    def cached(self) -> CachedPrefix | None:
        last = max((i for i, (_, _, m) in enumerate(self.items) if m), default=None)
        if last is None:
            return None
        prefix = self.items[: last + 1]
        digest = conversation_digest([value for value, _, _ in prefix])
        return CachedPrefix(digest, sum(tokens for _, tokens, _ in prefix))


def parse_messages(body: bytes) -> ParsedChat:
    """A Messages request, or ``RequestInvalid`` with Anthropic's wording."""
    data = load_object(
        body, "There was an error parsing the body of your request: not a JSON object"
    )
    for field in ("model", "max_tokens", "messages"):
        if field not in data:
            raise RequestInvalid(f"{field}: Field required", param=field)
    model = data["model"]
    if not isinstance(model, str) or not model:
        raise RequestInvalid("model: Input should be a valid string", param="model")
    max_tokens = positive_int(data, "max_tokens")
    parts = _Parts()
    tools = _tools(data.get("tools"), parts)
    system = _system(data.get("system"), parts)
    roles, texts, result = _messages(data["messages"], parts)
    user_index = max((i for i, r in enumerate(roles) if r == "user"), default=None)
    markers = NO_DIRECTIVES
    if user_index is not None:
        texts[user_index], markers = extract_markers(texts[user_index])
    mode, name, parallel = _tool_choice(data.get("tool_choice"), tools)
    prompt = Prompt(
        model=model,
        user_text=texts[user_index] if user_index is not None else "",
        tool_result=result,
        tools=tools,
        tool_mode=mode,
        tool_name=name,
        parallel_tools=parallel,
        output_mode=OutputMode.TEXT,
        output_schema=None,
        max_tokens=max_tokens,
        stop=stop_list(data.get("stop_sequences"), param="stop_sequences"),
        n=1,
        prompt_tokens=parts.total() + 3,
        digest=conversation_digest(
            system, list(zip(roles, texts, strict=True)), [t.name for t in tools]
        ),
    )
    return ParsedChat(prompt, markers, stream=data.get("stream") is True, cached=parts.cached())


def _tools(tools: Any, parts: _Parts) -> tuple[Tool, ...]:
    if tools is None:
        return ()
    if not isinstance(tools, list):
        raise RequestInvalid("tools: Input should be a valid list", param="tools")
    out = []
    for index, tool in enumerate(tools):
        if not isinstance(tool, dict) or not isinstance(tool.get("name"), str):
            raise RequestInvalid(f"tools.{index}.name: Field required", param="tools")
        parts.add(tool, count_blob_tokens(tool), tool)
        schema = tool.get("input_schema")
        if isinstance(schema, Mapping):  # server tools (web search, ...) have none
            out.append(Tool(tool["name"], schema))
    return tuple(out)


def _system(system: Any, parts: _Parts) -> str:
    if system is None:
        return ""
    if isinstance(system, str):
        parts.add(system, count_tokens(system), None)
        return system
    if not isinstance(system, list):
        raise RequestInvalid("system: Input should be a valid string or list", param="system")
    texts = []
    for block in system:
        text = block.get("text") if isinstance(block, dict) else None
        if not isinstance(text, str):
            raise RequestInvalid("system: text blocks need a 'text' string", param="system")
        parts.add(text, count_tokens(text), block)
        texts.append(text)
    return "\n".join(texts)


def _messages(messages: Any, parts: _Parts) -> tuple[list[str], list[str], str | None]:
    """(roles, texts, tool results of the last message or None)."""
    if not isinstance(messages, list) or not messages:
        raise RequestInvalid("messages: at least one message is required", param="messages")
    roles, texts = [], []
    result: str | None = None
    for index, message in enumerate(messages):
        role = message.get("role") if isinstance(message, dict) else None
        if role not in ("user", "assistant"):
            raise RequestInvalid(
                f"messages.{index}.role: Input should be 'user' or 'assistant'",
                param="messages",
            )
        assert isinstance(message, dict)
        text, results = _blocks(message.get("content"), index, parts)
        roles.append(role)
        texts.append(text)
        result = " ".join(results) if results and role == "user" else None
    return roles, texts, result


def _blocks(content: Any, index: int, parts: _Parts) -> tuple[str, list[str]]:
    """(text of the text blocks, texts of the tool_result blocks) of one message."""
    if isinstance(content, str):
        parts.add(content, 3 + count_tokens(content), None)
        return content, []
    if not isinstance(content, list):
        raise RequestInvalid(f"messages.{index}.content: Field required", param="messages")
    texts, results = [], []
    for position, block in enumerate(content):
        kind = block.get("type") if isinstance(block, dict) else None
        overhead = 3 if position == 0 else 0
        if kind == "text":
            text = str(block.get("text", ""))
            texts.append(text)
            parts.add(text, overhead + count_tokens(text), block)
        elif kind == "tool_result":
            text = _result_text(block.get("content"))
            results.append(text)
            parts.add(text, overhead + count_tokens(text), block)
        else:
            parts.add(block, overhead + count_blob_tokens(block), block)
    return "\n".join(texts), results


def _result_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(
            str(b.get("text", ""))
            for b in content
            if isinstance(b, dict) and b.get("type") == "text"
        )
    return ""


def _tool_choice(choice: Any, tools: tuple[Tool, ...]) -> tuple[ToolMode, str | None, bool]:
    if choice is None:
        return (ToolMode.AUTO if tools else ToolMode.NONE), None, True
    kind = choice.get("type") if isinstance(choice, dict) else None
    if kind not in ("auto", "any", "tool", "none"):
        raise RequestInvalid("tool_choice.type: Input should be 'auto', 'any', 'tool' or 'none'")
    assert isinstance(choice, dict)
    parallel = choice.get("disable_parallel_tool_use") is not True
    if kind == "none":
        return ToolMode.NONE, None, parallel
    if not tools:
        raise RequestInvalid("tool_choice may only be specified while providing tools.")
    if kind == "tool":
        name = choice.get("name")
        if not isinstance(name, str):
            raise RequestInvalid("tool_choice.tool.name: Field required", param="tool_choice")
        return ToolMode.NAMED, find_tool(tools, name, param="tool_choice"), parallel
    return (ToolMode.REQUIRED if kind == "any" else ToolMode.AUTO), None, parallel
