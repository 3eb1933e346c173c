"""`veritee policy init --from EVIDENCE` pins what the evidence shows, and the result enforces it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.helpers import run_cli
from verifier.policy import Policy

AT = "2025-01-01T00:00:00Z"


def test_pinned_policy_accepts_its_evidence_and_rejects_other_images(
    testvectors: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    snp = testvectors / "snp"
    policy = tmp_path / "milan.toml"
    made = run_cli(
        capsys, "policy", "init", "--from", snp / "milan-v2.report.bin", "--vcek", snp / "milan-v2.vcek.der",
        "--at", AT, "--out", policy,
    )  # fmt: skip
    assert made.code == 0, made.err
    parsed = Policy.load(policy)
    assert parsed.measurements["sev-snp"]["measurement"] == {
        "7a1e5c266c0108dbc9bb94fa926951320940915d0aafb42464bd88b579ea158d3e1a0dc39b2c60bd95b9c480cd81841f"
    }
    assert parsed.snp_min_tcb == {"bootloader": 3, "tee": 0, "snp": 8, "microcode": 115}
    same = run_cli(
        capsys, "verify", "evidence", snp / "milan-v2.report.bin", "--vcek", snp / "milan-v2.vcek.der",
        "--at", AT, "--policy", policy,
    )  # fmt: skip
    assert same.code == 0 and "policy.measurement" in same.out and "not pinned" not in same.out
    other = run_cli(
        capsys, "verify", "evidence", snp / "genoa-v5.report.bin", "--vcek", snp / "genoa-v5.vcek.der",
        "--at", "2025-09-01T00:00:00Z", "--policy", policy,
    )  # fmt: skip
    assert other.code == 1 and "policy.platform" not in other.err and "allowlist" in other.err


def test_nitro_policy_pins_pcrs(testvectors: Path, capsys: pytest.CaptureFixture[str]) -> None:
    result = run_cli(
        capsys, "policy", "init", "--from", testvectors / "nitro" / "evervault-2022.doc.cbor"
    )
    assert result.code == 0
    policy = Policy.from_toml(result.out)
    assert set(policy.measurements["nitro"]) == {"pcr0", "pcr1", "pcr2", "pcr3", "pcr4", "pcr8"}


def test_unverifiable_evidence_writes_no_policy(
    testvectors: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "p.toml"
    result = run_cli(
        capsys,
        "policy",
        "init",
        "--from",
        testvectors / "snp" / "milan-v2.report.bin",
        "--out",
        out,
    )
    assert result.code == 3  # no VCEK: could not check, and nothing written
    assert not out.exists()


def test_tdx_policy_from_a_quote_and_its_collateral(
    testvectors: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tdx = testvectors / "tdx"
    result = run_cli(
        capsys, "policy", "init", "--from", tdx / "dcapqvl-v4.quote.bin",
        "--collateral", tdx / "dcapqvl-v4.collateral.json", "--at", "2025-07-01T00:00:00Z",
    )  # fmt: skip
    assert result.code == 0, result.err
    policy = Policy.from_toml(result.out)
    assert next(iter(policy.measurements["tdx"]["mrtd"])).startswith("91eb2b44")
    assert policy.tdx_allowed_tcb_statuses == {"UpToDate"}
