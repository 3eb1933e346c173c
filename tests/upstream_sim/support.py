"""Constants and small builders shared by the simulator tests."""

from __future__ import annotations

from typing import Any

from veritee.upstream_sim import SimSettings

# Short bounds so that a fault a test provokes never outlives the test by much.
SETTINGS = SimSettings(stall_max_s=5, hold_max_s=5, epoch=1_700_000_000, seed="tests")
ANTHROPIC_MODEL = "sim-model"
WEATHER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "city": {"type": "string"},
        "days": {"type": "integer", "minimum": 1, "maximum": 7},
        "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
    },
    "required": ["city", "days", "unit"],
}
OPENAI_TOOLS: list[Any] = [
    {"type": "function", "function": {"name": "get_weather", "parameters": WEATHER_SCHEMA}},
    {"type": "function", "function": {"name": "get_time", "parameters": {"type": "object"}}},
]
ANTHROPIC_TOOLS: list[Any] = [
    {"name": "get_weather", "description": "Weather", "input_schema": WEATHER_SCHEMA},
    {"name": "get_time", "description": "Time", "input_schema": {"type": "object"}},
]


def user(text: str) -> list[Any]:
    """A one-message conversation."""
    return [{"role": "user", "content": text}]
