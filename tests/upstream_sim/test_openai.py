"""The OpenAI dialect as the official ``openai`` SDK sees it, over a real socket."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx2
import openai
import pydantic
import pytest

from tests.upstream_sim.support import OPENAI_TOOLS, SETTINGS, user
from veritee.upstream_sim import RequestIds, SimSettings, ThreadedSim, start_in_thread


def test_reply_mentions_the_prompt_and_counts_usage(oai: openai.OpenAI) -> None:
    raw = oai.chat.completions.with_raw_response.create(
        model="gpt-4o", messages=user("What is the capital of Mongolia?")
    )
    completion = raw.parse()
    choice = completion.choices[0]
    assert choice.message.content is not None
    assert choice.message.content.startswith(
        'Simulated reply to "What is the capital of Mongolia?"'
    )
    assert choice.finish_reason == "stop"
    assert completion.object == "chat.completion"
    assert completion.created == SETTINGS.epoch
    assert completion.model == "gpt-4o"
    usage = completion.usage
    assert usage is not None
    assert usage.prompt_tokens == 3 + 3 + 6  # base + per message + words
    assert usage.completion_tokens == len(choice.message.content.split())
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    assert raw.headers["x-request-id"].startswith("req_")
    assert raw.headers["openai-processing-ms"] == "0"
    assert raw.headers["content-type"] == "application/json"


def test_stream_carries_the_same_text_role_first_finish_last(oai: openai.OpenAI) -> None:
    messages = user("Tell me about rivers")
    whole = oai.chat.completions.create(model="m", messages=messages)
    chunks = list(oai.chat.completions.create(model="m", messages=messages, stream=True))
    assert all(c.object == "chat.completion.chunk" and c.id == chunks[0].id for c in chunks)
    assert chunks[0].choices[0].delta.role == "assistant"
    assert [c.choices[0].finish_reason for c in chunks][-1] == "stop"
    assert all(c.choices[0].finish_reason is None for c in chunks[:-1])
    assert all(c.usage is None for c in chunks)
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert text == whole.choices[0].message.content
    assert len(chunks) == 2 + len(text.split())  # role, one per token, finish


def test_include_usage_adds_a_final_chunk_with_usage_only(oai: openai.OpenAI) -> None:
    messages = user("Count my tokens please")
    whole = oai.chat.completions.create(model="m", messages=messages)
    chunks = list(
        oai.chat.completions.create(
            model="m", messages=messages, stream=True, stream_options={"include_usage": True}
        )
    )
    assert chunks[-1].choices == []
    assert chunks[-1].usage == whole.usage
    assert all(c.usage is None for c in chunks[:-1])


def test_async_client_streamed_and_not(sim: ThreadedSim) -> None:
    async def run() -> tuple[str | None, str]:
        async with openai.AsyncOpenAI(
            base_url=sim.openai_base_url, api_key="k", max_retries=0, timeout=5
        ) as client:
            messages = user("async hello")
            whole = await client.chat.completions.create(model="m", messages=messages)
            stream = await client.chat.completions.create(model="m", messages=messages, stream=True)
            parts = [c.choices[0].delta.content or "" async for c in stream]
            return whole.choices[0].message.content, "".join(parts)

    whole, streamed = asyncio.run(run())
    assert whole == streamed
    assert whole is not None and '"async hello"' in whole


def _weather_args(arguments: str, prompt: str) -> dict[str, Any]:
    args = json.loads(arguments)
    assert args["city"] == prompt
    assert 1 <= args["days"] <= 7
    assert args["unit"] == "celsius"
    return dict(args)


def test_streamed_tool_call_is_reassembled_by_the_sdk(oai: openai.OpenAI) -> None:
    prompt = "Use get_weather for Paris"
    with oai.chat.completions.stream(
        model="m", messages=user(prompt), tools=OPENAI_TOOLS
    ) as stream:
        deltas = [e for e in stream if e.type == "tool_calls.function.arguments.delta"]
        final = stream.get_final_completion()
    choice = final.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None
    calls = choice.message.tool_calls or []
    assert [c.function.name for c in calls] == ["get_weather"]
    _weather_args(calls[0].function.arguments, prompt)
    assert len(deltas) > 1  # the arguments really arrived in fragments
    assert calls[0].id.startswith("call_")


def test_tool_calls_follow_the_order_of_mention_unless_parallel_is_off(oai: openai.OpenAI) -> None:
    prompt = "call get_time and then get_weather"
    both = oai.chat.completions.create(model="m", messages=user(prompt), tools=OPENAI_TOOLS)
    calls = both.choices[0].message.tool_calls or []
    assert [c.function.name for c in calls] == ["get_time", "get_weather"]
    assert len({c.id for c in calls}) == 2
    one = oai.chat.completions.create(
        model="m", messages=user(prompt), tools=OPENAI_TOOLS, parallel_tool_calls=False
    )
    assert [c.function.name for c in one.choices[0].message.tool_calls or []] == ["get_time"]


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        ("required", ["get_weather"]),
        ({"type": "function", "function": {"name": "get_time"}}, ["get_time"]),
        ("none", []),
        ("auto", []),
    ],
)
def test_tool_choice(oai: openai.OpenAI, choice: Any, expected: list[str]) -> None:
    completion = oai.chat.completions.create(
        model="m", messages=user("no tool named here"), tools=OPENAI_TOOLS, tool_choice=choice
    )
    calls = completion.choices[0].message.tool_calls or []
    assert [c.function.name for c in calls] == expected
    assert completion.choices[0].finish_reason == ("tool_calls" if expected else "stop")


def test_after_a_tool_result_the_model_answers_in_text(oai: openai.OpenAI) -> None:
    first = oai.chat.completions.create(
        model="m", messages=user("use get_weather"), tools=OPENAI_TOOLS
    )
    call = (first.choices[0].message.tool_calls or [])[0]
    messages: list[Any] = [
        *user("use get_weather"),
        first.choices[0].message.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": call.id, "content": "Sunny and 21 degrees"},
    ]
    second = oai.chat.completions.create(model="m", messages=messages, tools=OPENAI_TOOLS)
    content = second.choices[0].message.content or ""
    assert content.startswith('Tool result received "Sunny and 21 degrees":')
    assert second.choices[0].message.tool_calls is None


def test_json_object_mode_returns_a_json_object(oai: openai.OpenAI) -> None:
    completion = oai.chat.completions.create(
        model="m", messages=user("answer in JSON"), response_format={"type": "json_object"}
    )
    value = json.loads(completion.choices[0].message.content or "")
    assert value["prompt"] == "answer in JSON"


class Weather(pydantic.BaseModel):
    city: str
    days: int
    warnings: list[str]
    tomorrow: Weather | None = None


def test_json_schema_mode_satisfies_the_schema_the_sdk_sends(oai: openai.OpenAI) -> None:
    completion = oai.chat.completions.parse(
        model="m", messages=user("weather for Oslo"), response_format=Weather
    )
    parsed = completion.choices[0].message.parsed
    assert isinstance(parsed, Weather)
    assert parsed.city == "weather for Oslo"


def test_n_choices_differ_and_stream_per_index(oai: openai.OpenAI) -> None:
    messages = user("three ways to say hi")
    whole = oai.chat.completions.create(model="m", messages=messages, n=3)
    texts = [c.message.content for c in whole.choices]
    assert [c.index for c in whole.choices] == [0, 1, 2]
    assert len(set(texts)) == 3
    streamed = ["", "", ""]
    for chunk in oai.chat.completions.create(model="m", messages=messages, n=3, stream=True):
        for choice in chunk.choices:
            streamed[choice.index] += choice.delta.content or ""
    assert streamed == texts


@pytest.mark.parametrize("param", ["max_tokens", "max_completion_tokens"])
def test_max_tokens_truncates_with_finish_reason_length(oai: openai.OpenAI, param: str) -> None:
    completion = oai.chat.completions.create(model="m", messages=user("a long story"), **{param: 4})
    assert completion.choices[0].finish_reason == "length"
    assert completion.choices[0].message.content == 'Simulated reply to "a'
    assert completion.usage is not None and completion.usage.completion_tokens == 4


def test_stop_sequence_cuts_the_content(oai: openai.OpenAI) -> None:
    completion = oai.chat.completions.create(
        model="m", messages=user("alpha beta HALT gamma"), stop=["HALT", "never"]
    )
    assert completion.choices[0].message.content == 'Simulated reply to "alpha beta '
    assert completion.choices[0].finish_reason == "stop"


def _content_deltas(oai: openai.OpenAI, text: str, headers: dict[str, str]) -> list[str]:
    stream = oai.chat.completions.create(
        model="m", messages=user(text), stream=True, extra_headers=headers
    )
    return [c.choices[0].delta.content for c in stream if c.choices[0].delta.content]


def test_chunk_count_from_header_and_marker_marker_wins(oai: openai.OpenAI) -> None:
    by_header = _content_deltas(oai, "split me", {"x-sim": "chunks=3"})
    by_marker = _content_deltas(oai, "split me [[sim:chunks=5]]", {"x-sim": "chunks=3"})
    assert len(by_header) == 3
    assert len(by_marker) == 5
    assert "".join(by_header) == "".join(by_marker)  # markers do not change the content


def test_models_list_and_retrieve(oai: openai.OpenAI) -> None:
    assert "gpt-4o-mini" in [m.id for m in oai.models.list()]
    assert oai.models.retrieve("any-model").id == "any-model"


def test_missing_key_is_401_in_openai_envelope(sim: ThreadedSim) -> None:
    response = httpx2.post(sim.openai_base_url + "/chat/completions", json={"model": "m"})
    assert response.status_code == 401
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert "API key" in error["message"]


def test_configured_key_rejects_others() -> None:
    with start_in_thread(SimSettings(api_key="the-right-key")) as sim:
        wrong = openai.OpenAI(base_url=sim.openai_base_url, api_key="wrong", max_retries=0)
        with pytest.raises(openai.AuthenticationError) as caught:
            wrong.models.list()
        assert caught.value.code == "invalid_api_key"
        right = openai.OpenAI(base_url=sim.openai_base_url, api_key="the-right-key")
        assert right.models.list().data


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"model": "m"}, "messages"),
        ({"model": "m", "messages": []}, "messages"),
        ({"model": "m", "messages": [{"role": "robot", "content": "x"}]}, "messages[0].role"),
        ({"model": "m", "messages": user("x"), "stream_options": {}}, "stream_options"),
        ({"model": "m", "messages": user("x"), "n": 0}, "n"),
        ({"model": "m", "messages": user("x"), "tool_choice": "required"}, "tool_choice"),
        ({"model": "m", "messages": user("x [[sim:fault=nope]]")}, "x-sim"),
    ],
)
def test_bad_requests_are_400_naming_the_parameter(
    oai: openai.OpenAI, body: dict[str, Any], param: str
) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        oai.post("/chat/completions", cast_to=object, body=body)
    assert caught.value.param == param


def test_unknown_path_and_wrong_method(sim: ThreadedSim) -> None:
    auth = {"authorization": "Bearer k"}
    missing = httpx2.post(sim.openai_base_url + "/embeddings", headers=auth, json={})
    assert missing.status_code == 404
    assert missing.json()["error"]["message"] == "Invalid URL (POST /v1/embeddings)"
    wrong = httpx2.get(sim.openai_base_url + "/chat/completions", headers=auth)
    assert wrong.status_code == 405


def test_ids_are_predictable_from_seed_and_request_number() -> None:
    with start_in_thread(SimSettings(seed="predict")) as sim:
        client = openai.OpenAI(base_url=sim.openai_base_url, api_key="k", max_retries=0)
        client.models.list()  # request 1
        raw = client.chat.completions.with_raw_response.create(  # request 2
            model="m", messages=user("use get_time"), tools=OPENAI_TOOLS
        )
        completion = raw.parse()
    ids = RequestIds("predict", 2)
    assert completion.id == ids.completion_id
    assert raw.headers["x-request-id"] == ids.request_id
    assert (completion.choices[0].message.tool_calls or [])[0].id == ids.tool_call_id(0)
