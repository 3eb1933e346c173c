"""Real parts for the enclave's integration tests, all on 127.0.0.1 over real sockets.

- ``sim``: the upstream simulator (both dialects) behind TLS with its own CA;
- ``snp``: the simulated SEV-SNP provider (one state directory per session);
- ``start_enclave(**overrides)``: an enclave app served by uvicorn in a thread, its
  upstreams pointing at the simulator, trusting the simulator's CA.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from attestation.simulated.snp import SimulatedSnpProvider
from tests.helpers.enclave import ANTHROPIC_MODEL, OPENAI_MODEL, RunningEnclave
from tests.helpers.enclave import start_enclave as start_enclave_for
from tests.helpers.snp import simulated_state_dir
from veritee.upstream_sim import SimSettings, ThreadedSim, self_signed, start_in_thread

SIM_SETTINGS = SimSettings(stall_max_s=4, hold_max_s=10, epoch=1_700_000_000, seed="enclave")
MEASUREMENT = b"\x42" * 48
__all__ = ["ANTHROPIC_MODEL", "MEASUREMENT", "OPENAI_MODEL", "RunningEnclave", "StartEnclave"]


@pytest.fixture(scope="session")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadedSim]:
    tls = self_signed(tmp_path_factory.mktemp("sim-tls"))
    with start_in_thread(SIM_SETTINGS, tls=tls) as running:
        yield running


@pytest.fixture(scope="session")
def snp() -> SimulatedSnpProvider:
    return SimulatedSnpProvider(simulated_state_dir(), measurement=MEASUREMENT)


StartEnclave = Callable[..., RunningEnclave]


@pytest.fixture(scope="module")
def start_enclave(sim: ThreadedSim, snp: SimulatedSnpProvider) -> Iterator[StartEnclave]:
    """Start enclaves with settings overrides (``upstream={"read_timeout_seconds": 9}``)."""
    started: list[RunningEnclave] = []

    def start(**overrides: Any) -> RunningEnclave:
        started.append(start_enclave_for(sim, snp, **overrides))
        return started[-1]

    yield start
    for running in started:
        running.server.stop()


@pytest.fixture(scope="module")
def enclave(start_enclave: StartEnclave) -> RunningEnclave:
    """One enclave shared by a test module."""
    return start_enclave()
