"""A simulator per test module, and SDK clients pointed at it (no retries, short timeouts)."""

from __future__ import annotations

from collections.abc import Iterator

import anthropic
import openai
import pytest

from tests.upstream_sim.support import SETTINGS
from veritee.upstream_sim import ThreadedSim, start_in_thread


@pytest.fixture(scope="module")
def sim() -> Iterator[ThreadedSim]:
    with start_in_thread(SETTINGS) as running:
        yield running


@pytest.fixture
def oai(sim: ThreadedSim) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(
        base_url=sim.openai_base_url, api_key="sk-test", max_retries=0, timeout=5
    ) as client:
        yield client


@pytest.fixture
def claude(sim: ThreadedSim) -> Iterator[anthropic.Anthropic]:
    with anthropic.Anthropic(
        base_url=sim.base_url, api_key="sk-ant-test", max_retries=0, timeout=5
    ) as client:
        yield client
