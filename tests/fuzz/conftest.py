"""Fixtures of the fuzz tests: seed material (real vectors when present) and its state."""

from __future__ import annotations

from pathlib import Path

import pytest

from fuzz.contract import Context
from fuzz.material import Material
from tests.conftest import TESTVECTORS


@pytest.fixture(scope="session")
def fuzz_state(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz") / "state"


@pytest.fixture(scope="session")
def material(fuzz_state: Path) -> Material:
    """Seeds from the simulators, and from the real vectors where they are present."""
    return Material(fuzz_state, TESTVECTORS)


@pytest.fixture(scope="session")
def context(material: Material) -> Context:
    _ = material.all_evidence  # the simulators' roots exist before a verifier target runs
    return Context(material.state)
