"""Same request, same bytes: only ids (derived from seed and request number) differ."""

from __future__ import annotations

from typing import Any

import httpx2

from tests.upstream_sim.support import ANTHROPIC_TOOLS, OPENAI_TOOLS, SETTINGS, user
from veritee.upstream_sim import RequestIds, start_in_thread

OPENAI = {"authorization": "Bearer k"}
ANTHROPIC = {"x-api-key": "k", "anthropic-version": "2023-06-01"}
REQUESTS: list[tuple[str, dict[str, str], dict[str, Any]]] = [
    ("/v1/chat/completions", OPENAI, {"model": "m", "messages": user("det one")}),
    (
        "/v1/chat/completions",
        OPENAI,
        {"model": "m", "messages": user("get_weather now"), "tools": OPENAI_TOOLS, "stream": True},
    ),
    ("/v1/messages", ANTHROPIC, {"model": "m", "max_tokens": 50, "messages": user("det two")}),
    (
        "/v1/messages",
        ANTHROPIC,
        {
            "model": "m",
            "max_tokens": 50,
            "stream": True,
            "tools": ANTHROPIC_TOOLS,
            "messages": user("get_time please"),
        },
    ),
]


def _run_all() -> list[bytes]:
    with start_in_thread(SETTINGS) as sim, httpx2.Client(base_url=sim.base_url) as http:
        return [http.post(path, headers=h, json=body).content for path, h, body in REQUESTS]


def test_a_fresh_server_with_the_same_seed_answers_byte_for_byte_the_same() -> None:
    assert _run_all() == _run_all()


def test_repeated_request_differs_only_in_its_ids() -> None:
    with start_in_thread(SETTINGS) as sim, httpx2.Client(base_url=sim.base_url) as http:
        number = 0
        for path, headers, body in REQUESTS:
            first = http.post(path, headers=headers, json=body).content
            second = http.post(path, headers=headers, json=body).content
            number += 2
            assert first != second
            assert _without_ids(first, number - 1) == _without_ids(second, number)


def _without_ids(body: bytes, number: int) -> bytes:
    """``body`` with every id of request ``number`` replaced by ``ID``."""
    ids = RequestIds(SETTINGS.seed, number)
    assert ids.completion_id.encode() in body or ids.message_id.encode() in body
    for value in (ids.completion_id, ids.message_id, ids.tool_call_id(0), ids.tool_use_id(0)):
        body = body.replace(value.encode(), b"ID")
    return body
