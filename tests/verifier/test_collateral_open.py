"""open_collateral: the configured source, as the CLI and the gateway build it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from gateway.config import settings_from_dict
from verifier.collateral import (
    CollateralUnavailable,
    DirectoryCollateral,
    FirstAvailable,
    PcsKdsFetcher,
    open_collateral,
)


def test_nothing_configured_means_evidence_only() -> None:
    assert open_collateral() is None


def test_a_bundle_file_answers_for_its_fmspc(testvectors: Path) -> None:
    source = open_collateral(testvectors / "tdx" / "dcapqvl-v4.collateral.json")
    assert source is not None
    got = source.tdx_collateral(
        fmspc="b0c06f000000", ca="platform", now=datetime(2025, 7, 1, tzinfo=UTC)
    )
    assert got is not None
    with pytest.raises(CollateralUnavailable):
        source.tdx_collateral(
            fmspc="000000000000", ca="platform", now=datetime(2025, 7, 1, tzinfo=UTC)
        )


def test_directory_and_fetcher_compose(tmp_path: Path) -> None:
    assert isinstance(open_collateral(tmp_path), DirectoryCollateral)
    assert isinstance(open_collateral(fetch_cache=tmp_path / "cache"), PcsKdsFetcher)
    assert isinstance(open_collateral(tmp_path, fetch_cache=tmp_path / "cache"), FirstAvailable)


def test_gateway_settings_take_collateral_paths(tmp_path: Path) -> None:
    settings = settings_from_dict(
        {"attestation": {"collateral": "bundle.json", "fetch_collateral_cache": "cache"}},
        base_dir=tmp_path,
    )
    assert settings.attestation.collateral == tmp_path / "bundle.json"
    assert settings.attestation.fetch_collateral_cache == tmp_path / "cache"
