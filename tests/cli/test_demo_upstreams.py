"""The demo calls real providers when their API keys are set, the simulator otherwise."""

from __future__ import annotations

from veritee.demo.upstreams import real_upstreams, simulated_upstreams


def test_no_keys_means_the_simulator() -> None:
    assert real_upstreams({}) is None
    sim = simulated_upstreams("https://127.0.0.1:9/v1")
    assert not sim.real and sim.model == "gpt-4o-mini"
    assert sim.upstreams[0]["base_url"] == "https://127.0.0.1:9/v1"


def test_openai_key() -> None:
    chosen = real_upstreams({"OPENAI_API_KEY": "sk-test"})
    assert chosen is not None and chosen.real
    assert [u["name"] for u in chosen.upstreams] == ["openai"]
    assert chosen.upstreams[0]["base_url"] == "https://api.openai.com/v1"
    assert chosen.model == "gpt-4o-mini"


def test_anthropic_key_alone_and_model_override() -> None:
    chosen = real_upstreams({"ANTHROPIC_API_KEY": "sk-ant", "VERITEE_DEMO_MODEL": "claude-x"})
    assert chosen is not None
    assert chosen.upstreams[0]["dialect"] == "anthropic"
    assert chosen.model == "claude-x"
    both = real_upstreams({"OPENAI_API_KEY": "a", "ANTHROPIC_API_KEY": "b"})
    assert both is not None and both.names == "openai, anthropic"
