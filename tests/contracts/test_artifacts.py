"""The committed artifacts are exactly what the pinned compiler makes of the sources."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import contracts
from contracts import compile as build
from tests.conftest import REPO, need


def test_load_artifact_gives_a_fresh_complete_artifact() -> None:
    for name in contracts.ARTIFACT_NAMES:
        artifact = contracts.load_artifact(name)
        assert artifact["contractName"] == name
        assert artifact["bytecode"].startswith("0x6")
        assert len(artifact["deployedBytecode"]) > 1000
        assert {item["type"] for item in artifact["abi"]} >= {"function", "event", "error"}
        artifact["abi"].clear()
        assert contracts.load_artifact(name)["abi"]


def test_load_artifact_names_what_exists() -> None:
    with pytest.raises(KeyError, match="EnclaveRegistry"):
        contracts.load_artifact("VeriteeSignatures")


def test_the_compiler_is_pinned_in_one_version_everywhere() -> None:
    pinned = json.loads((REPO / "package.json").read_text())["devDependencies"]["solc"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", pinned), "solc must be pinned to an exact version"
    for source in sorted((REPO / "contracts" / "src").glob("*.sol")):
        assert f"pragma solidity {pinned};" in source.read_text(), source.name
    for name in contracts.ARTIFACT_NAMES:
        artifact = contracts.load_artifact(name)
        assert artifact["compiler"]["version"].startswith(f"{pinned}+commit.")
        assert artifact["settings"] == build.SETTINGS


def test_recompiling_gives_byte_identical_artifacts() -> None:
    need(build.SOLCJS.exists(), "solc-js not installed: run `npm ci` (see package.json)")
    texts = build.compile_all()
    assert sorted(texts) == sorted(f"{name}.json" for name in contracts.ARTIFACT_NAMES)
    assert build.stale_artifacts(texts) == [], "run `make contracts` and commit the artifacts"


def test_missing_or_changed_artifacts_are_reported_stale(tmp_path: Path) -> None:
    texts = {
        f"{name}.json": (build.ARTIFACTS / f"{name}.json").read_text()
        for name in contracts.ARTIFACT_NAMES
    }
    assert build.stale_artifacts(texts) == []
    (tmp_path / "EnclaveRegistry.json").write_text(texts["EnclaveRegistry.json"])
    assert build.stale_artifacts(texts, tmp_path) == ["TranscriptAnchor.json"]
    changed = {**texts, "EnclaveRegistry.json": texts["EnclaveRegistry.json"] + " "}
    assert build.stale_artifacts(changed, tmp_path) == [
        "EnclaveRegistry.json",
        "TranscriptAnchor.json",
    ]
