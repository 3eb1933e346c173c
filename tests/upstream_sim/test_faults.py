"""Every fault, as each official SDK (no retries) sees it; and hold/release."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

import anthropic
import httpx2
import openai
import pytest

from tests.upstream_sim.support import ANTHROPIC_MODEL, user
from veritee.upstream_sim import ThreadedSim

Ask = Callable[[str, bool], str]


@pytest.fixture
def ask_openai(sim: ThreadedSim) -> Ask:
    client = openai.OpenAI(base_url=sim.openai_base_url, api_key="k", max_retries=0, timeout=0.5)

    def ask(text: str, stream: bool) -> str:
        if not stream:
            return (
                client.chat.completions.create(model="m", messages=user(text))
                .choices[0]
                .message.content
                or ""
            )
        chunks = client.chat.completions.create(model="m", messages=user(text), stream=True)
        return "".join(c.choices[0].delta.content or "" for c in chunks)

    return ask


@pytest.fixture
def ask_anthropic(sim: ThreadedSim) -> Ask:
    client = anthropic.Anthropic(base_url=sim.base_url, api_key="k", max_retries=0, timeout=0.5)

    def ask(text: str, stream: bool) -> str:
        if not stream:
            message = client.messages.create(
                model=ANTHROPIC_MODEL, max_tokens=64, messages=user(text)
            )
            return "".join(b.text for b in message.content if b.type == "text")
        with client.messages.stream(model=ANTHROPIC_MODEL, max_tokens=64, messages=user(text)) as s:
            return s.get_final_text()

    return ask


STREAMS = pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])


@STREAMS
@pytest.mark.parametrize(
    ("fault", "openai_error", "anthropic_error", "status"),
    [
        ("429", openai.RateLimitError, anthropic.RateLimitError, 429),
        ("500", openai.InternalServerError, anthropic.InternalServerError, 500),
        ("529", openai.InternalServerError, anthropic.OverloadedError, 529),
    ],
)
def test_status_faults(
    ask_openai: Ask,
    ask_anthropic: Ask,
    stream: bool,
    fault: str,
    openai_error: type[openai.APIStatusError],
    anthropic_error: type[anthropic.APIStatusError],
    status: int,
) -> None:
    with pytest.raises(openai_error) as from_openai:
        ask_openai(f"x [[sim:fault={fault}]]", stream)
    with pytest.raises(anthropic_error) as from_anthropic:
        ask_anthropic(f"x [[sim:fault={fault}]]", stream)
    assert from_openai.value.status_code == from_anthropic.value.status_code == status
    if status == 429:
        assert from_openai.value.response.headers["retry-after"] == "1"
    assert from_openai.value.body is not None  # the OpenAI envelope, parsed
    assert isinstance(from_anthropic.value.body, dict)
    assert from_anthropic.value.body["type"] == "error"


def test_retry_after_is_configurable(ask_openai: Ask) -> None:
    with pytest.raises(openai.RateLimitError) as caught:
        ask_openai("x [[sim:fault=429,retry_after=7]]", False)
    assert caught.value.response.headers["retry-after"] == "7"


@STREAMS
def test_reset_is_a_connection_error(ask_openai: Ask, ask_anthropic: Ask, stream: bool) -> None:
    with pytest.raises(openai.APIConnectionError) as from_openai:
        ask_openai("x [[sim:fault=reset]]", stream)
    with pytest.raises(anthropic.APIConnectionError):
        ask_anthropic("x [[sim:fault=reset]]", stream)
    assert "reset" in str(from_openai.value.__cause__).lower()


@STREAMS
def test_stall_before_times_out(ask_openai: Ask, ask_anthropic: Ask, stream: bool) -> None:
    with pytest.raises(openai.APITimeoutError):
        ask_openai("x [[sim:fault=stall-before]]", stream)
    with pytest.raises(anthropic.APITimeoutError):
        ask_anthropic("x [[sim:fault=stall-before]]", stream)


def _deltas_until(
    sim: ThreadedSim, text: str, error: type[Exception]
) -> tuple[list[Any], Exception]:
    """Stream ``text`` with the OpenAI SDK until it raises ``error``: (deltas, the error)."""
    client = openai.OpenAI(base_url=sim.openai_base_url, api_key="k", max_retries=0, timeout=0.5)
    stream = client.chat.completions.create(model="m", messages=user(text), stream=True)
    received = []
    with pytest.raises(error) as caught:
        for chunk in stream:
            received.append(chunk.choices[0].delta)
    return received, caught.value


def test_stall_after_delivers_the_first_chunk_then_times_out(sim: ThreadedSim) -> None:
    received, _ = _deltas_until(sim, "x [[sim:fault=stall-after]]", openai.APITimeoutError)
    assert [d.role for d in received] == ["assistant", None]
    assert received[1].content == "Simulated"


def test_stall_after_in_anthropic_stream(ask_anthropic: Ask) -> None:
    # The anthropic SDK lets the transport's timeout through while iterating a stream.
    with pytest.raises(httpx2.ReadTimeout):
        ask_anthropic("x [[sim:fault=stall-after]]", True)
    with pytest.raises(anthropic.APITimeoutError):
        ask_anthropic("x [[sim:fault=stall-after]]", False)


def test_truncate_cuts_the_stream_without_done(sim: ThreadedSim) -> None:
    text = "x [[sim:fault=truncate,chunks=6]]"
    received, error = _deltas_until(sim, text, openai.APIConnectionError)
    assert len(received) == 1 + 3  # role chunk, then half of the 6 content chunks
    assert "incomplete chunked read" in str(error.__cause__)


def test_truncate_in_anthropic_and_non_streamed(ask_openai: Ask, ask_anthropic: Ask) -> None:
    with pytest.raises(httpx2.RemoteProtocolError):
        ask_anthropic("x [[sim:fault=truncate]]", True)
    with pytest.raises(anthropic.APIConnectionError):
        ask_anthropic("x [[sim:fault=truncate]]", False)
    with pytest.raises(openai.APIConnectionError):
        ask_openai("x [[sim:fault=truncate]]", False)


@STREAMS
def test_malformed_json_fails_to_decode(ask_openai: Ask, ask_anthropic: Ask, stream: bool) -> None:
    with pytest.raises(json.JSONDecodeError):
        ask_openai("x [[sim:fault=malformed-json]]", stream)
    with pytest.raises(json.JSONDecodeError):
        ask_anthropic("x [[sim:fault=malformed-json]]", stream)


def test_malformed_sse_line_is_ignored_by_compliant_parsers(
    sim: ThreadedSim, ask_openai: Ask, ask_anthropic: Ask
) -> None:
    for ask in (ask_openai, ask_anthropic):
        assert ask("x [[sim:fault=malformed-sse]]", True) == ask("x", True)
    raw = httpx2.post(
        sim.openai_base_url + "/chat/completions",
        headers={"authorization": "Bearer k"},
        json={"model": "m", "messages": user("x [[sim:fault=malformed-sse]]"), "stream": True},
    )
    assert "%%% upstream-sim malformed-sse" in raw.text


def test_fault_by_header(sim: ThreadedSim) -> None:
    client = openai.OpenAI(base_url=sim.openai_base_url, api_key="k", max_retries=0)
    with pytest.raises(openai.InternalServerError):
        client.chat.completions.create(
            model="m", messages=user("x"), extra_headers={"x-sim": "fault=500"}
        )


def test_hold_sends_the_first_chunk_before_the_rest_exists(sim: ThreadedSim) -> None:
    client = openai.OpenAI(base_url=sim.openai_base_url, api_key="k", max_retries=0, timeout=5)
    stream = client.chat.completions.create(
        model="m", messages=user("held [[sim:hold=t-first,chunks=4]]"), stream=True
    )
    chunks = iter(stream)
    first = [next(chunks).choices[0].delta, next(chunks).choices[0].delta]
    assert first[0].role == "assistant" and first[1].content
    assert sim.release("t-first") == 1  # the server was still holding the rest
    rest = [c.choices[0].delta.content for c in chunks if c.choices[0].delta.content]
    assert len(rest) == 3


def test_release_by_http_and_release_before_hold(sim: ThreadedSim) -> None:
    response = httpx2.post(sim.base_url + "/_sim/release/t-early")
    assert response.json() == {"released": "t-early", "waiting": 0}
    client = anthropic.Anthropic(base_url=sim.base_url, api_key="k", max_retries=0, timeout=5)
    with client.messages.stream(
        model=ANTHROPIC_MODEL, max_tokens=20, messages=user("x [[sim:hold=t-early]]")
    ) as stream:
        assert stream.get_final_text().startswith("Simulated reply")


def test_hold_on_a_plain_request_holds_the_whole_response(sim: ThreadedSim) -> None:
    client = openai.OpenAI(base_url=sim.openai_base_url, api_key="k", max_retries=0, timeout=5)
    answers: list[str | None] = []
    worker = threading.Thread(
        target=lambda: answers.append(
            client.chat.completions.create(model="m", messages=user("x [[sim:hold=t-plain]]"))
            .choices[0]
            .message.content
        )
    )
    worker.start()
    for _ in range(500):  # until the request has arrived and is held
        if sim.waiting("t-plain"):
            break
        threading.Event().wait(0.01)
    assert not answers
    assert sim.release("t-plain") == 1
    worker.join(5)
    assert answers and answers[0] is not None
