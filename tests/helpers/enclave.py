"""Start real enclaves for tests: served by uvicorn on 127.0.0.1, upstreams at a simulator.

For the gateway's tests as much as the enclave's own::

    with start_in_thread(SimSettings(), tls=self_signed(tmp)) as sim:
        with running_enclaves(sim, SimulatedSnpProvider(simulated_state_dir()), n=3) as pool:
            urls = [e.url for e in pool]              # http://127.0.0.1:<port>
            pool[0].enclave.log.since(0, 100)         # the internal API (enclave.runtime)

Each enclave has its own signing key and receipt chain; models ``gpt-sim`` (OpenAI
dialect) and ``claude-sim`` (Anthropic dialect) both go to the simulator over TLS.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from attestation.evidence import EvidenceProvider
from enclave.app import create_app, enclave_of
from enclave.runtime import Enclave
from enclave.server import BackgroundServer
from enclave.settings import settings_from_dict
from veritee.upstream_sim import ThreadedSim

OPENAI_MODEL = "gpt-sim"
ANTHROPIC_MODEL = "claude-sim"
IMAGE_DIGEST = "sha256:" + "ab" * 32


class RunningEnclave:
    """A served enclave: its URL and its internal API."""

    def __init__(self, server: BackgroundServer, enclave: Enclave) -> None:
        self.server = server
        self.enclave = enclave

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def openai_url(self) -> str:
        """``url + "/v1"``: the OpenAI SDK's ``base_url``."""
        return self.server.url + "/v1"


def enclave_settings(sim: ThreadedSim, **overrides: Any) -> dict[str, Any]:
    """Settings (as decoded TOML) for an enclave in front of ``sim``.

    Each keyword names a section whose keys replace the defaults'
    (``upstream={"read_timeout_seconds": 9}``); ``upstreams=[...]`` replaces the list.
    """
    ca = sim.endpoint.ca_path
    if ca is None:
        raise ValueError("the simulator must serve TLS (start_in_thread(tls=...))")
    data: dict[str, Any] = {
        "identity": {"image_digest": IMAGE_DIGEST},
        "attestation": {"provider": "simulated-sev-snp"},
        "upstream": {"ca_bundle": str(ca), "read_timeout_seconds": 2.0},
        "receipts": {"checkpoint_every_receipts": 1000, "checkpoint_every_seconds": 3600},
        "upstreams": [
            {
                "name": "sim-openai",
                "dialect": "openai",
                "base_url": sim.openai_base_url,
                "api_key": "sk-sim",
                "models": [OPENAI_MODEL, "gpt-*"],
            },
            {
                "name": "sim-anthropic",
                "dialect": "anthropic",
                "base_url": sim.base_url + "/v1",
                "api_key": "sk-ant-sim",
                "models": [ANTHROPIC_MODEL, "claude-*"],
                "default_max_tokens": 300,
            },
        ],
    }
    for section, values in overrides.items():
        data[section] = {**data.get(section, {}), **values} if isinstance(values, dict) else values
    return data


def start_enclave(sim: ThreadedSim, provider: EvidenceProvider, **overrides: Any) -> RunningEnclave:
    """Build and serve one enclave; stop it with ``running.server.stop()``."""
    settings = settings_from_dict(enclave_settings(sim, **overrides), base_dir=Path.cwd())
    app = create_app(settings, provider=provider)
    return RunningEnclave(BackgroundServer(app).start(), enclave_of(app))


@contextlib.contextmanager
def running_enclaves(
    sim: ThreadedSim, provider: EvidenceProvider, n: int = 1, **overrides: Any
) -> Iterator[list[RunningEnclave]]:
    """``n`` enclaves (each its own key and chain), stopped on exit."""
    started: list[RunningEnclave] = []
    try:
        for _ in range(n):
            started.append(start_enclave(sim, provider, **overrides))
        yield started
    finally:
        for running in started:
            running.server.stop()
