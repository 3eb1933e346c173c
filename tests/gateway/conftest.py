"""Fixtures for the gateway tests: the simulator, the simulated AMD chain, Redis, PostgreSQL."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import need
from tests.helpers.services import (
    Service,
    create_database,
    postgres_binaries,
    redis_available,
    start_postgres,
    start_redis,
)
from tests.helpers.snp import simulated_state_dir
from veritee.upstream_sim import SimSettings, ThreadedSim, self_signed, start_in_thread

_databases = itertools.count(1)


@pytest.fixture(scope="session")
def redis_service() -> Iterator[Service]:
    need(redis_available(), "redis-server is not installed (Debian package redis-server)")
    service = start_redis()
    yield service
    service.stop()


@pytest.fixture(scope="session")
def postgres_service() -> Iterator[Service]:
    need(postgres_binaries() is not None, "PostgreSQL is not installed (Debian package postgresql)")
    service = start_postgres()
    yield service
    service.stop()


@pytest.fixture
def pg_dsn(postgres_service: Service) -> str:
    """A fresh, empty database for one test."""
    return create_database(postgres_service, f"t{next(_databases)}")


@pytest.fixture(scope="session")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadedSim]:
    """The upstream simulator behind TLS (its CA is what enclaves trust)."""
    tls = self_signed(tmp_path_factory.mktemp("sim-tls"))
    settings = SimSettings(stall_max_s=5, hold_max_s=30, epoch=1_700_000_000, seed="gateway")
    with start_in_thread(settings, tls=tls) as running:
        yield running


@pytest.fixture(scope="session")
def amd_state() -> Path:
    """The simulated AMD chain's state directory (shared by the session: RSA-4096 keys are
    slow to make); its ``*.pem`` files are the roots a gateway must be given."""
    return simulated_state_dir()
