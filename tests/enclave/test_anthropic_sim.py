"""Each Anthropic mapping, round-tripped: OpenAI request -> enclave -> simulator (Messages API)
-> enclave -> OpenAI answer. The simulator's journal shows what the enclave really sent."""

from __future__ import annotations

import json
import secrets
from typing import Any

import openai
import orjson
import pytest

from tests.enclave.conftest import ANTHROPIC_MODEL, RunningEnclave
from tests.enclave.helpers import WEATHER
from veritee.upstream_sim import ThreadedSim

TIME: Any = {"type": "function", "function": {"name": "get_time", "parameters": {"type": "object"}}}


@pytest.fixture
def sdk(enclave: RunningEnclave) -> openai.OpenAI:
    return openai.OpenAI(base_url=enclave.openai_url, api_key="x", max_retries=0, timeout=10)


def sent(sim: ThreadedSim) -> dict[str, Any]:
    """The body of the last Messages request the simulator received."""
    entry = [e for e in sim.requests() if e["path"] == "/v1/messages"][-1]
    assert entry["headers"]["anthropic-version"] == "2023-06-01"
    body: dict[str, Any] = orjson.loads(entry["body"])
    return body


def test_system_prompts_user_and_default_max_tokens(sdk: openai.OpenAI, sim: ThreadedSim) -> None:
    completion = sdk.chat.completions.create(
        model=ANTHROPIC_MODEL,
        messages=[
            {"role": "system", "content": "Be brief."},
            {"role": "developer", "content": "Use SI units."},
            {"role": "user", "content": "hello"},
        ],
        user="user-42",
        temperature=0.5,
    )
    body = sent(sim)
    assert body["system"] == [
        {"type": "text", "text": "Be brief."},
        {"type": "text", "text": "Use SI units."},
    ]
    assert body["messages"] == [{"role": "user", "content": "hello"}]
    assert body["max_tokens"] == 300, "the upstream's default_max_tokens"
    assert body["metadata"] == {"user_id": "user-42"}
    assert body["temperature"] == 0.5
    assert completion.id.startswith("msg_01")
    assert completion.object == "chat.completion"
    assert completion.choices[0].finish_reason == "stop"


def test_stop_sequences_and_length(sdk: openai.OpenAI, sim: ThreadedSim) -> None:
    stopped = sdk.chat.completions.create(
        model=ANTHROPIC_MODEL,
        messages=[{"role": "user", "content": "one two HALT three"}],
        stop=["zzz", "HALT"],
    )
    assert sent(sim)["stop_sequences"] == ["zzz", "HALT"]
    assert stopped.choices[0].finish_reason == "stop"
    assert stopped.choices[0].message.content == 'Simulated reply to "one two '
    short = sdk.chat.completions.create(
        model=ANTHROPIC_MODEL,
        messages=[{"role": "user", "content": "long"}],
        max_completion_tokens=2,
    )
    assert sent(sim)["max_tokens"] == 2
    assert short.choices[0].finish_reason == "length"
    assert short.usage is not None
    assert short.usage.completion_tokens == 2


@pytest.mark.parametrize(
    ("choice", "parallel", "expected_choice", "called"),
    [
        ("required", None, {"type": "any"}, ["get_weather"]),
        (
            {"type": "function", "function": {"name": "get_time"}},
            None,
            {"type": "tool", "name": "get_time"},
            ["get_time"],
        ),
        ("none", None, {"type": "none"}, []),
        ("auto", False, {"type": "auto", "disable_parallel_tool_use": True}, []),
    ],
)
def test_tools_and_tool_choice(
    sdk: openai.OpenAI,
    sim: ThreadedSim,
    choice: Any,
    parallel: Any,
    expected_choice: dict[str, Any],
    called: list[str],
) -> None:
    extra: dict[str, Any] = {} if parallel is None else {"parallel_tool_calls": parallel}
    completion = sdk.chat.completions.create(
        model=ANTHROPIC_MODEL,
        messages=[{"role": "user", "content": "no tool named here"}],
        tools=[WEATHER, TIME],
        tool_choice=choice,
        **extra,
    )
    body = sent(sim)
    assert body["tool_choice"] == expected_choice
    assert [t["name"] for t in body["tools"]] == ["get_weather", "get_time"]
    assert body["tools"][0]["input_schema"] == WEATHER["function"]["parameters"]
    message = completion.choices[0].message
    assert [c.function.name for c in message.tool_calls or []] == called  # type: ignore[union-attr]
    assert completion.choices[0].finish_reason == ("tool_calls" if called else "stop")


def test_a_tool_round_trip(sdk: openai.OpenAI, sim: ThreadedSim) -> None:
    ask: list[Any] = [{"role": "user", "content": "please use get_weather for Lima"}]
    first = sdk.chat.completions.create(
        model=ANTHROPIC_MODEL, messages=ask, tools=[WEATHER], tool_choice="required"
    )
    call = (first.choices[0].message.tool_calls or [])[0]
    assert call.id.startswith("toolu_01")
    arguments = json.loads(call.function.arguments)  # type: ignore[union-attr]
    assert arguments["city"] == "please use get_weather for Lima"
    history: list[Any] = [
        *ask,
        first.choices[0].message.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": call.id, "content": "It rains"},
    ]
    second = sdk.chat.completions.create(model=ANTHROPIC_MODEL, messages=history, tools=[WEATHER])
    body = sent(sim)
    assert body["messages"][1]["content"][-1] == {
        "type": "tool_use",
        "id": call.id,
        "name": "get_weather",
        "input": arguments,
    }
    assert body["messages"][2] == {
        "role": "user",
        "content": [{"type": "tool_result", "tool_use_id": call.id, "content": "It rains"}],
    }
    assert second.choices[0].finish_reason == "stop"
    assert (second.choices[0].message.content or "").startswith('Tool result received "It rains"')


def test_streamed_tool_calls_carry_openai_indexes(sdk: openai.OpenAI) -> None:
    stream = sdk.chat.completions.create(
        model=ANTHROPIC_MODEL,
        messages=[{"role": "user", "content": "please use get_weather for Oslo"}],
        tools=[WEATHER],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    calls = [tc for c in chunks if c.choices for tc in c.choices[0].delta.tool_calls or []]
    assert text, "a text block comes before the tool block"
    assert {tc.index for tc in calls} == {0}, "Anthropic block 1 is OpenAI tool call 0"
    assert calls[0].id is not None
    assert calls[0].id.startswith("toolu_01")
    arguments = "".join(tc.function.arguments or "" for tc in calls if tc.function)
    assert json.loads(arguments)["city"] == "please use get_weather for Oslo"
    finish = [
        c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason
    ]
    assert finish == ["tool_calls"]
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.total_tokens > 0


def test_cached_prompt_tokens(enclave: RunningEnclave) -> None:
    sdk = openai.OpenAI(base_url=enclave.openai_url, api_key="x", max_retries=0)
    unique = secrets.token_hex(8)  # the simulator caches by prefix, for the whole session
    system: Any = [
        {"type": "text", "text": f"a long stable system prompt {unique} " * 10},
        {"type": "text", "text": "the end", "cache_control": {"type": "ephemeral"}},
    ]

    def ask(question: str) -> Any:
        completion = sdk.chat.completions.create(
            model=ANTHROPIC_MODEL,
            messages=[{"role": "system", "content": system}, {"role": "user", "content": question}],
        )
        return completion.usage

    first, second = ask("first question"), ask("second question")
    assert first.prompt_tokens_details.cache_write_tokens > 0
    assert (
        second.prompt_tokens_details.cached_tokens == first.prompt_tokens_details.cache_write_tokens
    )
    assert second.prompt_tokens >= second.prompt_tokens_details.cached_tokens
    receipt = enclave.enclave.log.since(enclave.enclave.log.last_seq - 1, 1)[0].receipt
    assert receipt.body.usage is not None
    assert (
        receipt.body.usage["prompt_tokens_details.cached_tokens"]
        == second.prompt_tokens_details.cached_tokens
    )


def test_upstream_errors_become_openai_errors(sdk: openai.OpenAI) -> None:
    with pytest.raises(openai.RateLimitError) as info:
        sdk.chat.completions.create(
            model=ANTHROPIC_MODEL, messages=[{"role": "user", "content": "x [[sim:fault=429]]"}]
        )
    error = info.value.body
    assert isinstance(error, dict)
    assert error["type"] == "rate_limit_error"
    assert "Rate limit" in error["message"]
