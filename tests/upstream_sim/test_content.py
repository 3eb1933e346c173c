"""The deterministic generator and the JSON Schema instance builder."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from veritee.upstream_sim.content import Finish, argument_fragments, generate, pieces
from veritee.upstream_sim.prompt import OutputMode, Prompt, Tool, ToolMode, conversation_digest
from veritee.upstream_sim.schema_values import example


def _prompt(text: str = "hello world", **overrides: Any) -> Prompt:
    fields: dict[str, Any] = {
        "model": "m",
        "user_text": text,
        "tool_result": None,
        "tools": (),
        "tool_mode": ToolMode.NONE,
        "tool_name": None,
        "parallel_tools": True,
        "output_mode": OutputMode.TEXT,
        "output_schema": None,
        "max_tokens": None,
        "stop": (),
        "n": 1,
        "prompt_tokens": 1,
        "digest": conversation_digest(text),
    }
    fields.update(overrides)
    return Prompt(**fields)


def test_same_prompt_same_words_other_prompt_other_words() -> None:
    assert generate(_prompt()) == generate(_prompt())
    assert generate(_prompt()).text != generate(_prompt("hello there")).text
    assert generate(_prompt(), choice=1).text != generate(_prompt()).text


def test_words_directive_sets_the_length() -> None:
    completion = generate(_prompt("a b"), words=5)
    assert completion.text.startswith('Simulated reply to "a b": ')
    assert len(completion.text.split()) == 5 + 5
    assert completion.output_tokens == len(completion.tokens) == 5 + 5


def test_tokens_join_to_the_text() -> None:
    completion = generate(_prompt("spaces   and\ttabs"))
    assert "".join(completion.tokens) == completion.text
    assert '"spaces and tabs"' in completion.text


@given(
    st.lists(st.from_regex(r" ?[a-z]{1,6}", fullmatch=True), min_size=1, max_size=40),
    st.one_of(st.none(), st.integers(1, 100)),
)
def test_pieces_keep_the_text_and_honour_the_count(tokens: list[str], chunks: int | None) -> None:
    split = pieces(tuple(tokens), chunks)
    text = "".join(tokens)
    assert "".join(split) == text
    assert all(split)
    expected = len(tokens) if chunks is None else min(chunks, len(text))
    assert len(split) == expected


@given(st.text(min_size=0, max_size=80), st.one_of(st.none(), st.integers(1, 30)))
def test_argument_fragments_keep_the_arguments(arguments: str, chunks: int | None) -> None:
    fragments = argument_fragments(arguments, chunks)
    assert "".join(fragments) == arguments
    assert all(fragments)


def test_tool_named_in_text_is_called_unless_after_a_result() -> None:
    tools = (Tool("lookup", {"type": "object", "properties": {"q": {"type": "string"}}}),)
    called = generate(_prompt("please lookup x", tools=tools, tool_mode=ToolMode.AUTO))
    assert called.finish is Finish.TOOL_CALLS
    assert json.loads(called.tool_calls[0].arguments) == {"q": "please lookup x"}
    answered = generate(
        _prompt("please lookup x", tools=tools, tool_mode=ToolMode.AUTO, tool_result="42")
    )
    assert answered.tool_calls == ()
    assert "42" in answered.text


def test_tool_name_must_be_a_whole_word() -> None:
    tools = (Tool("get", {}),)
    assert generate(_prompt("forget it", tools=tools, tool_mode=ToolMode.AUTO)).tool_calls == ()


def test_tool_arguments_cut_by_max_tokens() -> None:
    tools = (Tool("lookup", {"type": "object", "properties": {"q": {"type": "string"}}}),)
    completion = generate(
        _prompt("lookup " + "word " * 20, tools=tools, tool_mode=ToolMode.REQUIRED, max_tokens=3)
    )
    assert completion.finish is Finish.LENGTH
    assert completion.output_tokens == 3
    assert len(completion.tool_calls[0].arguments) == 8


def test_schema_instance_follows_refs_unions_and_bounds() -> None:
    schema = {
        "type": "object",
        "properties": {
            "item": {"$ref": "#/$defs/Item"},
            "maybe": {
                "anyOf": [{"type": "null"}, {"type": "integer", "minimum": 10, "maximum": 10}]
            },
            "tags": {"type": "array", "items": {"type": "string", "maxLength": 3}, "minItems": 2},
            "when": {"type": "string", "format": "date-time"},
            "kind": {"const": "fixed"},
            "flag": {"type": ["null", "boolean"]},
            "score": {"type": "number"},
        },
        "$defs": {"Item": {"type": "object", "properties": {"name": {"type": "string"}}}},
    }
    value = example(schema, hint="hinted", salt=3)
    assert value == {
        "item": {"name": "hinted"},
        "maybe": 10,
        "tags": ["hin", "hin"],
        "when": "2025-01-01T00:00:00Z",
        "kind": "fixed",
        "flag": False,
        "score": 3.5,
    }


def test_schema_instance_survives_nonsense() -> None:
    assert example({"$ref": "#/nowhere"}, hint="h", salt=0) == {}
    assert example("not a schema", hint="h", salt=0) == {}
    assert example({"type": "string"}, hint="h", salt=0) == {}  # the root is always an object
    recursive = {"type": "object", "properties": {"self": {"$ref": "#"}}}
    value: Any = example(recursive, hint="h", salt=0)
    levels = 0
    while isinstance(value, dict):  # nested until the depth limit, then null
        value, levels = value["self"], levels + 1
    assert value is None
    assert 2 <= levels <= 8
