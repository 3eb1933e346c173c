"""Running the simulator on the caller's own event loop, and the pacing directives."""

from __future__ import annotations

import asyncio

import anthropic
import openai

from tests.upstream_sim.support import ANTHROPIC_MODEL, user
from veritee.upstream_sim import SimServer, SimSettings, ThreadedSim


def test_sim_server_on_the_callers_loop_with_async_sdks() -> None:
    async def run() -> tuple[str, str]:
        async with SimServer(SimSettings(chunks=3)) as server:
            url = server.endpoint.base_url
            async with (
                openai.AsyncOpenAI(base_url=url + "/v1", api_key="k", max_retries=0) as oai,
                anthropic.AsyncAnthropic(base_url=url, api_key="k", max_retries=0) as claude,
            ):
                stream = await oai.chat.completions.create(
                    model="m", messages=user("same loop"), stream=True
                )
                deltas = [c.choices[0].delta.content async for c in stream]
                message = await claude.messages.create(
                    model=ANTHROPIC_MODEL, max_tokens=20, messages=user("same loop")
                )
                assert server.app.count == 2
                return "".join(d or "" for d in deltas), message.content[0].text

    streamed, claude_text = asyncio.run(run())
    assert streamed.startswith('Simulated reply to "same loop"')
    assert claude_text.startswith('Simulated reply to "same loop"')


def test_latency_is_reported_as_processing_time(sim: ThreadedSim) -> None:
    client = openai.OpenAI(base_url=sim.openai_base_url, api_key="k", max_retries=0)
    raw = client.chat.completions.with_raw_response.create(
        model="m", messages=user("slow [[sim:latency_ms=20]]")
    )
    assert raw.headers["openai-processing-ms"] == "20"
    assert raw.parse().choices[0].message.content == (
        client.chat.completions.create(model="m", messages=user("slow")).choices[0].message.content
    )


def test_paced_stream_delivers_every_chunk(sim: ThreadedSim) -> None:
    client = openai.OpenAI(base_url=sim.openai_base_url, api_key="k", max_retries=0)
    paced = client.chat.completions.create(
        model="m",
        messages=user("pace me"),
        stream=True,
        extra_headers={"x-sim": "chunk_delay_ms=2,latency_ms=1,chunks=4"},
    )
    deltas = [c.choices[0].delta.content for c in paced if c.choices[0].delta.content]
    whole = client.chat.completions.create(model="m", messages=user("pace me"))
    assert len(deltas) == 4
    assert "".join(deltas) == whole.choices[0].message.content
