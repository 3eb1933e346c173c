"""Fixtures for the gateway tests: real Redis and PostgreSQL servers, started once."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

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
