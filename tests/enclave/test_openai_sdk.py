"""The official ``openai`` SDK, sync and async, against a running enclave: nothing changes
for it but ``base_url``, and it never trips over a receipt."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import openai
import pytest

from tests.enclave.conftest import ANTHROPIC_MODEL, OPENAI_MODEL, RunningEnclave
from tests.enclave.helpers import WEATHER
from tests.enclave.receipts_check import check_receipt
from transcript import check_chain, parse_receipt_header
from veritee.upstream_sim import ThreadedSim

MODELS = pytest.mark.parametrize("model", [OPENAI_MODEL, ANTHROPIC_MODEL])


def client(enclave: RunningEnclave) -> openai.OpenAI:
    return openai.OpenAI(base_url=enclave.openai_url, api_key="unused", max_retries=0, timeout=10)


def user(text: str) -> Any:
    return [{"role": "user", "content": text}]


def last_receipts(enclave: RunningEnclave, n: int) -> list[Any]:
    log = enclave.enclave.log
    return [r.receipt for r in log.since(log.last_seq - n, n)]


@MODELS
def test_sync_completion_carries_a_verifying_receipt(
    enclave: RunningEnclave, sim: ThreadedSim, model: str
) -> None:
    raw = client(enclave).chat.completions.with_raw_response.create(
        model=model, messages=user("hello there")
    )
    completion = raw.parse()
    assert completion.choices[0].message.content
    assert completion.usage is not None
    assert completion.usage.prompt_tokens > 0
    receipt = parse_receipt_header(raw.headers["veritee-receipt"])
    check_receipt(enclave.url, receipt, request=raw.http_request.content, response=raw.content)
    body = receipt.body
    assert (body.status, body.stream, body.http_status, body.model) == (
        "complete",
        False,
        200,
        model,
    )
    assert body.usage is not None
    assert body.usage["total_tokens"] == completion.usage.total_tokens
    assert body.upstream.status == 200
    assert body.upstream.request_id is not None
    assert body.upstream.request_id.startswith("req_")
    assert body.upstream.host == f"127.0.0.1:{sim.endpoint.port}"  # the port: not 443


@MODELS
def test_sync_stream_with_usage_ignores_the_receipt(enclave: RunningEnclave, model: str) -> None:
    stream = client(enclave).chat.completions.create(
        model=model,
        messages=user("count to five"),
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text
    assert chunks[-1].choices == []
    assert chunks[-1].usage is not None
    assert all(c.object == "chat.completion.chunk" for c in chunks), "no receipt leaked in"
    (receipt,) = last_receipts(enclave, 1)
    assert (receipt.body.status, receipt.body.stream) == ("complete", True)
    assert receipt.body.usage is not None
    assert receipt.body.usage["completion_tokens"] == chunks[-1].usage.completion_tokens


@MODELS
def test_async_client_plain_and_streamed(enclave: RunningEnclave, model: str) -> None:
    async def run() -> tuple[str, str]:
        async with openai.AsyncOpenAI(
            base_url=enclave.openai_url, api_key="unused", max_retries=0, timeout=10
        ) as aclient:
            whole = await aclient.chat.completions.create(model=model, messages=user("hi async"))
            stream = await aclient.chat.completions.create(
                model=model, messages=user("hi async"), stream=True
            )
            parts = [c.choices[0].delta.content or "" async for c in stream if c.choices]
            return whole.choices[0].message.content or "", "".join(parts)

    whole, streamed = asyncio.run(run())
    assert whole
    assert whole == streamed, "the simulator is deterministic; both paths carry the same text"
    receipts = last_receipts(enclave, 2)
    assert [r.body.stream for r in receipts] == [False, True]
    assert all(r.body.status == "complete" for r in receipts)


@MODELS
def test_tool_calls_plain_and_streamed(enclave: RunningEnclave, model: str) -> None:
    sdk = client(enclave)
    ask = user("please use get_weather for Lima")
    whole = sdk.chat.completions.create(
        model=model, messages=ask, tools=[WEATHER], tool_choice="required"
    )
    choice = whole.choices[0]
    assert choice.finish_reason == "tool_calls"
    calls = choice.message.tool_calls
    assert calls is not None
    assert [c.function.name for c in calls] == ["get_weather"]  # type: ignore[union-attr]
    assert "city" in json.loads(calls[0].function.arguments)  # type: ignore[union-attr]

    stream = sdk.chat.completions.create(
        model=model, messages=ask, tools=[WEATHER], tool_choice="required", stream=True
    )
    arguments: dict[int, str] = {}
    names: dict[int, str] = {}
    finish = None
    for chunk in stream:
        for delta_call in chunk.choices[0].delta.tool_calls or []:
            if delta_call.function and delta_call.function.name:
                names[delta_call.index] = delta_call.function.name
            if delta_call.function and delta_call.function.arguments:
                arguments[delta_call.index] = (
                    arguments.get(delta_call.index, "") + delta_call.function.arguments
                )
        finish = chunk.choices[0].finish_reason or finish
    assert names == {0: "get_weather"}
    assert json.loads(arguments[0]) == json.loads(calls[0].function.arguments)  # type: ignore[union-attr]
    assert finish == "tool_calls"


def test_response_format_json_schema(enclave: RunningEnclave) -> None:
    schema = {
        "type": "object",
        "properties": {"answer": {"type": "integer"}},
        "required": ["answer"],
        "additionalProperties": False,
    }
    for model in (OPENAI_MODEL, ANTHROPIC_MODEL):
        completion = client(enclave).chat.completions.create(
            model=model,
            messages=user("what is six times seven?"),
            response_format={
                "type": "json_schema",
                "json_schema": {"name": "answer", "schema": schema, "strict": True},
            },
        )
        choice = completion.choices[0]
        assert isinstance(json.loads(choice.message.content or ""), dict)
        assert "answer" in json.loads(choice.message.content or "")
        assert choice.finish_reason == "stop"


def test_models_list(enclave: RunningEnclave) -> None:
    ids = [m.id for m in client(enclave).models.list()]
    assert ids == [OPENAI_MODEL, ANTHROPIC_MODEL]


def test_every_exchange_is_in_one_unbroken_chain(enclave: RunningEnclave) -> None:
    sdk = client(enclave)
    for model in (OPENAI_MODEL, ANTHROPIC_MODEL):
        sdk.chat.completions.create(model=model, messages=user("one more"))
    receipts = [r.receipt for r in enclave.enclave.log.since(0, 1000)]
    assert len(receipts) >= 2
    report = check_chain(receipts)
    assert report.ok, report.issues
