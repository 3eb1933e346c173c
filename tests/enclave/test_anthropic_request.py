"""OpenAI request -> Anthropic Messages request, one mapping at a time."""

from __future__ import annotations

from typing import Any

import pytest

from enclave.dialects.anthropic_request import JSON_TOOL_DESCRIPTION, to_anthropic
from enclave.errors import ApiError

USER = {"role": "user", "content": "hi"}


def translate(**fields: Any) -> tuple[dict[str, Any], str | None]:
    data = {"model": "claude-x", "messages": [USER], **fields}
    return to_anthropic(data, default_max_tokens=777)


def test_minimal_request_gets_the_default_max_tokens() -> None:
    out, json_tool = translate()
    assert out == {
        "model": "claude-x",
        "messages": [{"role": "user", "content": "hi"}],
        "max_tokens": 777,
    }
    assert json_tool is None


def test_system_and_developer_messages_become_system_blocks() -> None:
    out, _ = translate(
        messages=[
            {"role": "system", "content": "be brief"},
            {"role": "developer", "content": [{"type": "text", "text": "use SI units"}]},
            USER,
        ]
    )
    assert out["system"] == [
        {"type": "text", "text": "be brief"},
        {"type": "text", "text": "use SI units"},
    ]
    assert out["messages"] == [{"role": "user", "content": "hi"}]


def test_sampling_stop_user_and_max_tokens() -> None:
    out, _ = translate(
        temperature=0.2,
        top_p=0.9,
        top_k=5,
        stop="END",
        user="u-1",
        max_tokens=10,
        max_completion_tokens=20,
        stream=True,
        stream_options={"include_usage": True},
        n=1,
        logprobs=False,
        presence_penalty=0,
        seed=3,
        store=False,
    )
    assert out["temperature"] == 0.2
    assert out["top_p"] == 0.9
    assert out["top_k"] == 5
    assert out["stop_sequences"] == ["END"]
    assert out["metadata"] == {"user_id": "u-1"}
    assert out["max_tokens"] == 20, "max_completion_tokens wins over the legacy max_tokens"
    assert out["stream"] is True
    assert "seed" not in out
    assert "stream_options" not in out
    assert translate(stop=["a", "b"])[0]["stop_sequences"] == ["a", "b"]


WEATHER = {
    "type": "function",
    "function": {
        "name": "weather",
        "description": "Weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}


@pytest.mark.parametrize(
    ("choice", "parallel", "expected"),
    [
        (None, None, None),
        ("auto", None, {"type": "auto"}),
        ("none", None, {"type": "none"}),
        ("required", None, {"type": "any"}),
        (
            {"type": "function", "function": {"name": "weather"}},
            None,
            {"type": "tool", "name": "weather"},
        ),
        (None, False, {"type": "auto", "disable_parallel_tool_use": True}),
        ("required", False, {"type": "any", "disable_parallel_tool_use": True}),
        ("required", True, {"type": "any"}),
    ],
)
def test_tools_and_tool_choice(choice: object, parallel: object, expected: object) -> None:
    out, _ = translate(tools=[WEATHER], tool_choice=choice, parallel_tool_calls=parallel)
    assert out["tools"] == [
        {
            "name": "weather",
            "description": "Weather for a city",
            "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}},
        }
    ]
    assert out.get("tool_choice") == expected


def test_a_tool_round_trip_becomes_tool_use_and_tool_result_blocks() -> None:
    out, _ = translate(
        messages=[
            {"role": "user", "content": "weather in Oslo and Rome?"},
            {
                "role": "assistant",
                "content": "Checking.",
                "tool_calls": [
                    {
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "weather", "arguments": '{"city": "Oslo"}'},
                    },
                    {
                        "id": "call_2",
                        "type": "function",
                        "function": {"name": "weather", "arguments": '{"city": "Rome"}'},
                    },
                ],
            },
            {"role": "tool", "tool_call_id": "call_1", "content": "rain"},
            {
                "role": "tool",
                "tool_call_id": "call_2",
                "content": [{"type": "text", "text": "sun"}],
            },
            {"role": "user", "content": "thanks"},
        ]
    )
    assert out["messages"] == [
        {"role": "user", "content": "weather in Oslo and Rome?"},
        {
            "role": "assistant",
            "content": [
                {"type": "text", "text": "Checking."},
                {"type": "tool_use", "id": "call_1", "name": "weather", "input": {"city": "Oslo"}},
                {"type": "tool_use", "id": "call_2", "name": "weather", "input": {"city": "Rome"}},
            ],
        },
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "call_1", "content": "rain"},
                {
                    "type": "tool_result",
                    "tool_use_id": "call_2",
                    "content": [{"type": "text", "text": "sun"}],
                },
                {"type": "text", "text": "thanks"},
            ],
        },
    ]


def test_images_and_cache_control_parts() -> None:
    out, _ = translate(
        messages=[
            {
                "role": "user",
                "content": [
                    {
                        "type": "text",
                        "text": "what is this?",
                        "cache_control": {"type": "ephemeral"},
                    },
                    {
                        "type": "image_url",
                        "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="},
                    },
                    {"type": "image_url", "image_url": {"url": "https://img.example/cat.jpg"}},
                ],
            }
        ]
    )
    assert out["messages"][0]["content"] == [
        {"type": "text", "text": "what is this?", "cache_control": {"type": "ephemeral"}},
        {
            "type": "image",
            "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="},
        },
        {"type": "image", "source": {"type": "url", "url": "https://img.example/cat.jpg"}},
    ]


def test_response_format_becomes_a_forced_tool() -> None:
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}}
    out, json_tool = translate(
        response_format={"type": "json_schema", "json_schema": {"name": "count", "schema": schema}}
    )
    assert json_tool == "count"
    assert out["tools"] == [
        {"name": "count", "description": JSON_TOOL_DESCRIPTION, "input_schema": schema}
    ]
    assert out["tool_choice"] == {"type": "tool", "name": "count"}
    out, json_tool = translate(response_format={"type": "json_object"})
    assert json_tool == "json_response"
    assert out["tools"][0]["input_schema"] == {"type": "object"}
    assert translate(response_format={"type": "text"}) == translate()


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        ({"n": 2}, "n"),
        ({"n": True}, "n"),
        ({"logprobs": True}, "logprobs"),
        ({"frequency_penalty": 0.5}, "frequency_penalty"),
        ({"audio": {"voice": "x"}}, "audio"),
        ({"brand_new_field": 1}, "brand_new_field"),
        ({"messages": [{"role": "function", "content": "x"}]}, "messages[0].role"),
        (
            {"messages": [{"role": "user", "content": [{"type": "input_audio"}]}]},
            "messages[0].content[0]",
        ),
        ({"messages": [{"role": "user", "content": 5}]}, "messages[0].content"),
        ({"messages": [{"role": "system", "content": "only a system prompt"}]}, "messages"),
        ({"messages": [{"role": "tool", "content": "x"}]}, "messages[0].tool_call_id"),
        (
            {
                "messages": [
                    {
                        "role": "assistant",
                        "tool_calls": [{"id": "c", "function": {"name": "f", "arguments": "[1]"}}],
                    }
                ]
            },
            "messages[0].tool_calls[0].function.arguments",
        ),
        (
            {
                "messages": [
                    {
                        "role": "user",
                        "content": [{"type": "image_url", "image_url": {"url": "ftp://x"}}],
                    }
                ]
            },
            "messages[0].content[0]",
        ),
        ({"max_tokens": 0}, "max_tokens"),
        ({"temperature": "hot"}, "temperature"),
        ({"stop": [1]}, "stop"),
        ({"tools": [{"type": "web_search"}]}, "tools[0]"),
        ({"tools": [WEATHER], "tool_choice": "sometimes"}, "tool_choice"),
        ({"tools": [WEATHER], "response_format": {"type": "json_object"}}, "response_format"),
        ({"response_format": {"type": "yaml"}}, "response_format"),
    ],
)
def test_untranslatable_requests_are_400(fields: dict[str, Any], param: str) -> None:
    with pytest.raises(ApiError) as info:
        translate(**fields)
    assert (info.value.status, info.value.param) == (400, param)
