"""Anthropic -> OpenAI mappings shared by whole answers and streams.

Usage: OpenAI's ``prompt_tokens`` counts cached tokens while Anthropic's
``input_tokens`` does not, so ``prompt_tokens = input_tokens +
cache_creation_input_tokens + cache_read_input_tokens`` and
``prompt_tokens_details.cached_tokens = cache_read_input_tokens`` and
``prompt_tokens_details.cache_write_tokens = cache_creation_input_tokens``.
"""

from __future__ import annotations

from typing import Any

_FINISH = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "tool_use": "tool_calls",
    "pause_turn": "stop",
    "refusal": "content_filter",
    "model_context_window_exceeded": "length",
}


def finish_reason(stop_reason: object) -> str:
    """OpenAI ``finish_reason`` for an Anthropic ``stop_reason``."""
    return _FINISH.get(stop_reason, "stop") if type(stop_reason) is str else "stop"


def _count(value: object) -> int:
    return value if type(value) is int and value >= 0 else 0


def openai_usage(usage: object) -> dict[str, Any]:
    """OpenAI ``usage`` from Anthropic ``usage`` (see the module docstring)."""
    u = usage if type(usage) is dict else {}
    cached = _count(u.get("cache_read_input_tokens"))
    written = _count(u.get("cache_creation_input_tokens"))
    prompt = _count(u.get("input_tokens")) + written + cached
    completion = _count(u.get("output_tokens"))
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": cached, "cache_write_tokens": written},
    }
