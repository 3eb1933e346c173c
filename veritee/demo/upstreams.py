"""Which upstreams the demo's enclaves call: the simulator, or real providers.

With ``OPENAI_API_KEY`` and/or ``ANTHROPIC_API_KEY`` in the environment, the enclaves call
OpenAI and/or Anthropic themselves (TLS verified against the system trust store) and no
simulator runs. ``VERITEE_DEMO_MODEL`` picks the model the demo asks for; by default
``gpt-4o-mini`` with OpenAI, ``claude-haiku-4-5`` with Anthropic alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

SIMULATED_MODEL = "gpt-4o-mini"
OPENAI_URL = "https://api.openai.com/v1"
ANTHROPIC_URL = "https://api.anthropic.com"


@dataclass(frozen=True)
class DemoUpstreams:
    upstreams: list[dict[str, Any]]  # the enclave's [[upstreams]] tables
    model: str
    real: bool  # whether real providers are called (then no simulator is needed)

    @property
    def names(self) -> str:
        return ", ".join(u["name"] for u in self.upstreams)


def real_upstreams(env: Mapping[str, str]) -> DemoUpstreams | None:
    """Real providers for the API keys found in ``env``, or None when there are none."""
    upstreams: list[dict[str, Any]] = []
    if env.get("OPENAI_API_KEY"):
        upstreams.append(
            {"name": "openai", "dialect": "openai", "base_url": OPENAI_URL,
             "api_key": env["OPENAI_API_KEY"], "models": ["gpt-*", "o1*", "o3*", "o4*", "chatgpt-*"]}
        )  # fmt: skip
    if env.get("ANTHROPIC_API_KEY"):
        upstreams.append(
            {"name": "anthropic", "dialect": "anthropic", "base_url": ANTHROPIC_URL,
             "api_key": env["ANTHROPIC_API_KEY"], "models": ["claude-*"]}
        )  # fmt: skip
    if not upstreams:
        return None
    default = "gpt-4o-mini" if upstreams[0]["name"] == "openai" else "claude-haiku-4-5"
    return DemoUpstreams(upstreams, env.get("VERITEE_DEMO_MODEL") or default, real=True)


def simulated_upstreams(openai_base_url: str) -> DemoUpstreams:
    return DemoUpstreams(
        [{"name": "simulated-openai", "dialect": "openai", "base_url": openai_base_url,
          "api_key": "sk-demo", "models": [SIMULATED_MODEL, "gpt-*"]}],
        SIMULATED_MODEL,
        real=False,
    )  # fmt: skip
