"""Shared fixtures: where the real test vectors are, and how service-backed tests behave."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
# Chain fixtures (``chain``, ``env``, ``anvil``), available to every test.
pytest_plugins = ("tests.helpers.chains",)
TESTVECTORS = Path(os.environ.get("VERITEE_TESTVECTORS", REPO.parent / "shared" / "testvectors"))


def require_services() -> bool:
    """In CI (``VERITEE_REQUIRE_SERVICES=1``) a missing service fails a test, not skips it."""
    return os.environ.get("VERITEE_REQUIRE_SERVICES") == "1"


def need(condition: bool, reason: str) -> None:
    """Skip (locally) or fail (in CI) when a real service or tool the test needs is absent."""
    if condition:
        return
    if require_services():
        pytest.fail(f"required in CI but absent: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def testvectors() -> Path:
    """The shared real-hardware evidence (``../shared/testvectors``, or $VERITEE_TESTVECTORS)."""
    if not (TESTVECTORS / "README.md").is_file():
        pytest.skip(f"real test vectors not found at {TESTVECTORS} (set VERITEE_TESTVECTORS)")
    return TESTVECTORS
