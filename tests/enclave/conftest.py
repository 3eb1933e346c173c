"""Real parts for the enclave's integration tests, all on 127.0.0.1 over real sockets.

- ``sim``: the upstream simulator (both dialects) behind TLS with its own CA;
- ``snp``: the simulated SEV-SNP provider (one state directory per session);
- ``start_enclave(**overrides)``: an enclave app served by uvicorn in a thread, its
  upstreams pointing at the simulator, trusting the simulator's CA.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from attestation.simulated.snp import SimulatedSnpProvider
from enclave.app import create_app, enclave_of
from enclave.runtime import Enclave
from enclave.server import BackgroundServer
from enclave.settings import settings_from_dict
from tests.enclave.helpers import DIGEST
from tests.helpers.snp import simulated_state_dir
from veritee.upstream_sim import SimSettings, ThreadedSim, self_signed, start_in_thread

SIM_SETTINGS = SimSettings(stall_max_s=4, hold_max_s=10, epoch=1_700_000_000, seed="enclave")
OPENAI_MODEL = "gpt-sim"
ANTHROPIC_MODEL = "claude-sim"
MEASUREMENT = b"\x42" * 48


@pytest.fixture(scope="session")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadedSim]:
    tls = self_signed(tmp_path_factory.mktemp("sim-tls"))
    with start_in_thread(SIM_SETTINGS, tls=tls) as running:
        yield running


@pytest.fixture(scope="session")
def snp() -> SimulatedSnpProvider:
    return SimulatedSnpProvider(simulated_state_dir(), measurement=MEASUREMENT)


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
        return self.server.url + "/v1"


def enclave_settings(sim: ThreadedSim, **overrides: Any) -> dict[str, Any]:
    ca = sim.endpoint.ca_path
    assert ca is not None
    data: dict[str, Any] = {
        "identity": {"image_digest": DIGEST},
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
        if isinstance(values, dict):
            data[section] = {**data.get(section, {}), **values}
        else:
            data[section] = values
    return data


StartEnclave = Callable[..., RunningEnclave]


@pytest.fixture(scope="module")
def start_enclave(sim: ThreadedSim, snp: SimulatedSnpProvider) -> Iterator[StartEnclave]:
    """Start enclaves with settings overrides (``upstream={"read_timeout_seconds": 9}``)."""
    running: list[BackgroundServer] = []

    def start(**overrides: Any) -> RunningEnclave:
        settings = settings_from_dict(enclave_settings(sim, **overrides), base_dir=Path.cwd())
        app = create_app(settings, provider=snp)
        server = BackgroundServer(app).start()
        running.append(server)
        return RunningEnclave(server, enclave_of(app))

    yield start
    for server in running:
        server.stop()


@pytest.fixture(scope="module")
def enclave(start_enclave: StartEnclave) -> RunningEnclave:
    """One enclave shared by a test module."""
    return start_enclave()
