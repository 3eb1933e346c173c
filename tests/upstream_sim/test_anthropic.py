"""The Anthropic dialect as the official ``anthropic`` SDK sees it, over a real socket."""

from __future__ import annotations

import asyncio
from typing import Any

import anthropic
import httpx2
import pytest

from tests.upstream_sim.support import ANTHROPIC_MODEL, ANTHROPIC_TOOLS, user
from veritee.upstream_sim import RequestIds, SimSettings, ThreadedSim, start_in_thread

HEADERS = {"x-api-key": "k", "anthropic-version": "2023-06-01"}


def test_message_mentions_the_prompt_and_counts_usage(claude: anthropic.Anthropic) -> None:
    raw = claude.messages.with_raw_response.create(
        model=ANTHROPIC_MODEL,
        max_tokens=100,
        system="You are terse.",
        messages=user("Name a large river"),
    )
    message = raw.parse()
    assert message.type == "message" and message.role == "assistant"
    assert message.id.startswith("msg_01")
    block = message.content[0]
    assert block.type == "text"
    assert block.text.startswith('Simulated reply to "Name a large river":')
    assert message.stop_reason == "end_turn" and message.stop_sequence is None
    assert message.usage.input_tokens == 3 + 3 + 3 + 4  # base + system + message overhead + words
    assert message.usage.output_tokens == len(block.text.split())
    assert message.usage.cache_creation_input_tokens == 0
    assert message.usage.cache_read_input_tokens == 0
    assert raw.headers["request-id"].startswith("req_")


def test_stream_sends_the_real_event_sequence(claude: anthropic.Anthropic) -> None:
    messages = user("stream to me")
    whole = claude.messages.create(model=ANTHROPIC_MODEL, max_tokens=100, messages=messages)
    with claude.messages.stream(model=ANTHROPIC_MODEL, max_tokens=100, messages=messages) as s:
        kinds = [event.type for event in s]
        final = s.get_final_message()
    assert [b.model_dump(include={"type", "text"}) for b in final.content] == [
        b.model_dump(include={"type", "text"}) for b in whole.content
    ]
    assert final.usage.output_tokens == whole.usage.output_tokens
    assert final.stop_reason == "end_turn"
    assert kinds[:2] == ["message_start", "content_block_start"]
    assert kinds[-3:] == ["content_block_stop", "message_delta", "message_stop"]
    assert set(kinds[2:-3]) <= {"content_block_delta", "text"}


def test_raw_stream_has_ping_and_event_lines(sim: ThreadedSim) -> None:
    body = {"model": "m", "max_tokens": 3, "stream": True, "messages": user("raw")}
    response = httpx2.post(sim.base_url + "/v1/messages", headers=HEADERS, json=body)
    events = [line[7:] for line in response.text.splitlines() if line.startswith("event: ")]
    assert events == [
        "message_start",
        "content_block_start",
        "ping",
        *["content_block_delta"] * 3,
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"


def test_async_client(sim: ThreadedSim) -> None:
    async def run() -> tuple[Any, str]:
        async with anthropic.AsyncAnthropic(
            base_url=sim.base_url, api_key="k", max_retries=0, timeout=5
        ) as client:
            messages = user("async claude")
            whole = await client.messages.create(
                model=ANTHROPIC_MODEL, max_tokens=64, messages=messages
            )
            async with client.messages.stream(
                model=ANTHROPIC_MODEL, max_tokens=64, messages=messages
            ) as stream:
                text = await stream.get_final_text()
            return whole, text

    whole, text = asyncio.run(run())
    assert whole.content[0].text == text


def test_streamed_tool_use_is_reassembled_by_the_sdk(claude: anthropic.Anthropic) -> None:
    prompt = "please use get_weather for Lima"
    with claude.messages.stream(
        model=ANTHROPIC_MODEL, max_tokens=200, tools=ANTHROPIC_TOOLS, messages=user(prompt)
    ) as stream:
        json_deltas = [e for e in stream if e.type == "input_json"]
        final = stream.get_final_message()
    assert final.stop_reason == "tool_use"
    assert [b.type for b in final.content] == ["text", "tool_use"]
    tool = final.content[1]
    assert tool.type == "tool_use" and tool.name == "get_weather"
    assert tool.input == {"city": prompt, "days": tool.input["days"], "unit": "celsius"}
    assert len(json_deltas) > 1
    assert tool.id.startswith("toolu_01")


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        ({"type": "any"}, ["get_weather"]),
        ({"type": "tool", "name": "get_time"}, ["get_time"]),
        ({"type": "none"}, []),
        ({"type": "auto"}, []),
    ],
)
def test_tool_choice(claude: anthropic.Anthropic, choice: Any, expected: list[str]) -> None:
    message = claude.messages.create(
        model=ANTHROPIC_MODEL,
        max_tokens=200,
        tools=ANTHROPIC_TOOLS,
        tool_choice=choice,
        messages=user("no tool named here"),
    )
    assert [b.name for b in message.content if b.type == "tool_use"] == expected
    assert message.stop_reason == ("tool_use" if expected else "end_turn")
    if expected:  # a forced tool call comes without a text preamble
        assert [b.type for b in message.content] == ["tool_use"]


def test_tool_result_gets_a_text_answer(claude: anthropic.Anthropic) -> None:
    first = claude.messages.create(
        model=ANTHROPIC_MODEL, max_tokens=200, tools=ANTHROPIC_TOOLS, messages=user("get_time")
    )
    tool = next(b for b in first.content if b.type == "tool_use")
    messages: list[Any] = [
        *user("get_time"),
        {"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in first.content]},
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": tool.id, "content": "It is noon"}],
        },
    ]
    second = claude.messages.create(
        model=ANTHROPIC_MODEL, max_tokens=200, tools=ANTHROPIC_TOOLS, messages=messages
    )
    assert second.stop_reason == "end_turn"
    assert [b.type for b in second.content] == ["text"]
    assert second.content[0].text.startswith('Tool result received "It is noon":')


def test_stop_sequences_report_which_one_matched(claude: anthropic.Anthropic) -> None:
    message = claude.messages.create(
        model=ANTHROPIC_MODEL,
        max_tokens=100,
        stop_sequences=["zzz", "HALT"],
        messages=user("one two HALT three"),
    )
    assert message.stop_reason == "stop_sequence"
    assert message.stop_sequence == "HALT"
    assert message.content[0].text == 'Simulated reply to "one two '


def test_max_tokens_stops_with_max_tokens(claude: anthropic.Anthropic) -> None:
    message = claude.messages.create(model=ANTHROPIC_MODEL, max_tokens=2, messages=user("long"))
    assert message.stop_reason == "max_tokens"
    assert message.usage.output_tokens == 2
    assert message.content[0].text == "Simulated reply"


def test_cached_prefix_is_created_then_read() -> None:
    with start_in_thread() as sim:
        client = anthropic.Anthropic(base_url=sim.base_url, api_key="k", max_retries=0)
        system: Any = [
            {"type": "text", "text": "a long stable system prompt " * 10},
            {"type": "text", "text": "more", "cache_control": {"type": "ephemeral"}},
        ]

        def ask(question: str) -> Any:
            return client.messages.create(
                model=ANTHROPIC_MODEL, max_tokens=10, system=system, messages=user(question)
            ).usage

        first, second = ask("first question"), ask("another question")
    assert first.cache_creation_input_tokens == 51  # 50 words + "more"
    assert first.cache_read_input_tokens == 0
    assert second.cache_creation_input_tokens == 0
    assert second.cache_read_input_tokens == 51
    assert first.input_tokens == second.input_tokens == 3 + 3 + 2


def test_models_list_and_retrieve(claude: anthropic.Anthropic) -> None:
    page = claude.models.list()
    assert "sim-model" in [m.id for m in page.data]
    assert claude.models.retrieve("sim-model").display_name == "Simulated model"


@pytest.mark.parametrize(
    ("headers", "body", "status", "kind", "message"),
    [
        ({}, {}, 401, "authentication_error", "x-api-key header is required"),
        (
            {"x-api-key": "k"},
            {"model": "m", "max_tokens": 5, "messages": user("x")},
            400,
            "invalid_request_error",
            "anthropic-version: header is required",
        ),
        (
            HEADERS,
            {"model": "m", "messages": user("x")},
            400,
            "invalid_request_error",
            "max_tokens: Field required",
        ),
        (
            HEADERS,
            {"model": "m", "max_tokens": 5, "messages": []},
            400,
            "invalid_request_error",
            "messages: at least one message is required",
        ),
    ],
)
def test_errors_use_anthropic_shape(
    sim: ThreadedSim, headers: dict[str, str], body: Any, status: int, kind: str, message: str
) -> None:
    response = httpx2.post(sim.base_url + "/v1/messages", headers=headers, json=body)
    assert response.status_code == status
    payload = response.json()
    assert payload["type"] == "error"
    assert payload["error"] == {"type": kind, "message": message}
    assert payload["request_id"] == response.headers["request-id"]


def test_sdk_sees_missing_max_tokens_as_bad_request(claude: anthropic.Anthropic) -> None:
    with pytest.raises(anthropic.BadRequestError) as caught:
        claude.post("/v1/messages", cast_to=object, body={"model": "m", "messages": user("x")})
    assert caught.value.status_code == 400


def test_ids_are_predictable() -> None:
    with start_in_thread(SimSettings(seed="s")) as sim:
        client = anthropic.Anthropic(base_url=sim.base_url, api_key="k", max_retries=0)
        raw = client.messages.with_raw_response.create(
            model=ANTHROPIC_MODEL, max_tokens=50, tools=ANTHROPIC_TOOLS, messages=user("get_time")
        )
    message = raw.parse()
    ids = RequestIds("s", 1)
    assert message.id == ids.message_id
    assert raw.headers["request-id"] == ids.request_id
    assert next(b for b in message.content if b.type == "tool_use").id == ids.tool_use_id(0)
