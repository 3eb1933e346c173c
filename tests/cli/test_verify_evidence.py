"""`veritee verify evidence` and `veritee attest`: verdicts and exit codes on real and simulated evidence."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from attestation.simulated.snp import SimulatedSnpProvider
from tests.cli.helpers import run_cli, run_script
from tests.helpers.snp import simulated_state_dir

AT = "2025-01-01T00:00:00Z"
REPORT_DATA = "ab" * 64


def snp(testvectors: Path, name: str) -> tuple[Path, Path]:
    return testvectors / "snp" / f"{name}.report.bin", testvectors / "snp" / f"{name}.vcek.der"


def test_milan_v2_verifies(testvectors: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report, vcek = snp(testvectors, "milan-v2")
    result = run_cli(
        capsys, "verify", "evidence", report, "--vcek", vcek, "--product", "milan", "--at", AT
    )
    assert result.code == 0, result.err
    assert result.out.startswith("VERIFIED: sev-snp evidence signed by VCEK (Milan)")
    assert "measurement = 7a1e5c26" in result.out
    assert "measurements were not pinned" in result.out  # said plainly under the default policy


def test_milan_v2_debug_fails_naming_debug(
    testvectors: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report, vcek = snp(testvectors, "milan-v2-debug")
    result = run_cli(
        capsys, "verify", "evidence", report, "--vcek", vcek, "--product", "milan", "--at", AT
    )
    assert result.code == 1
    assert "policy.debug" in result.err and "debugging" in result.err


def test_milan_v2_debug_passes_with_an_unsafe_policy(
    testvectors: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report, vcek = snp(testvectors, "milan-v2-debug")
    policy = tmp_path / "p.toml"
    policy.write_text("[policy]\nunsafe_allow_debug = true\n")
    result = run_cli(
        capsys,
        "verify",
        "evidence",
        report,
        "--vcek",
        vcek,
        "--product",
        "milan",
        "--at",
        AT,
        "--policy",
        policy,
    )
    assert result.code == 0
    assert "debug enclave accepted" in result.out


def test_genoa_v5_verifies_with_genoa_roots_only(
    testvectors: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report, vcek = snp(testvectors, "genoa-v5")
    args = ("verify", "evidence", report, "--vcek", vcek, "--at", "2025-09-01T00:00:00Z")
    assert run_cli(capsys, *args, "--product", "genoa").code == 0
    wrong = run_cli(capsys, *args, "--product", "milan")
    assert wrong.code == 1 and "snp.vcek-chain" in wrong.err
    assert run_cli(capsys, *args).code == 0  # product detection across the shipped AMD roots


def test_outside_the_validity_window(testvectors: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report, vcek = snp(testvectors, "milan-v2")
    result = run_cli(
        capsys, "verify", "evidence", report, "--vcek", vcek, "--at", "2031-01-01T00:00:00Z"
    )
    assert result.code == 1 and "snp.validity" in result.err


def test_missing_vcek_is_could_not_check(
    testvectors: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report, _ = snp(testvectors, "milan-v2")
    result = run_cli(capsys, "verify", "evidence", report, "--at", AT)
    assert result.code == 3 and "snp.vcek" in result.err


def test_nitro_vectors(testvectors: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = run_cli(capsys, "verify", "evidence", testvectors / "nitro" / "evervault-2022.doc.cbor")
    assert good.code == 0 and "pcr0 = f4d48b81" in good.out
    debug = run_cli(
        capsys,
        "verify",
        "evidence",
        testvectors / "nitro" / "evervault-2023-debug-keybinding.doc.b64",
    )
    assert debug.code == 1 and "debug" in debug.err


def test_json_verdicts(testvectors: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report, vcek = snp(testvectors, "milan-v2")
    ok = run_cli(capsys, "verify", "evidence", report, "--vcek", vcek, "--at", AT, "--json")
    doc = json.loads(ok.out)
    assert doc["verified"] is True and doc["evidence"]["measurements"]["measurement"].startswith(
        "7a1e5c26"
    )
    report, vcek = snp(testvectors, "milan-v2-debug")
    bad = run_cli(capsys, "verify", "evidence", report, "--vcek", vcek, "--at", AT, "--json")
    assert bad.code == 1
    assert json.loads(bad.out) | {"reason": None} == {
        "verified": False,
        "exit_code": 1,
        "outcome": "FAILED",
        "check": "policy.debug",
        "reason": None,
    }


def test_simulated_round_trip(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    state = simulated_state_dir()
    out = tmp_path / "evidence.json"
    made = run_cli(
        capsys,
        "attest",
        "--platform",
        "simulated-sev-snp",
        "--report-data",
        REPORT_DATA,
        "--out",
        out,
        "--state",
        state,
    )
    assert made.code == 0, made.err
    assert run_cli(capsys, "verify", "evidence", out, "--roots", state).code == 0
    untrusted = run_cli(capsys, "verify", "evidence", out)  # never trusted by default
    assert untrusted.code == 1 and "snp.vcek-chain" in untrusted.err


@pytest.mark.parametrize(
    ("mangle", "needle"),
    [
        (lambda b: b[:-1], "bad input"),  # truncated
        (lambda b: b + b"\0", "bad input"),  # oversized
        (lambda b: b"\x07" + b[1:], "bad input"),  # unknown version
        (lambda b: b"garbage", "bad input"),
        (lambda b: b"", "bad input"),
        (lambda b: b'{"type": "veritee.evidence.v1"', "bad input"),
    ],
)
def test_bad_reports_exit_2(
    testvectors: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    mangle: object,
    needle: str,
) -> None:
    report, vcek = snp(testvectors, "milan-v2")
    bad = tmp_path / "bad.bin"
    bad.write_bytes(mangle(report.read_bytes()))  # type: ignore[operator]
    result = run_cli(
        capsys, "verify", "evidence", bad, "--vcek", vcek, "--platform", "sev-snp", "--at", AT
    )
    assert result.code == 2 and result.err.startswith(needle)


def test_garbage_certificate_and_bad_arguments_exit_2(
    testvectors: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report, _ = snp(testvectors, "milan-v2")
    junk = tmp_path / "vcek.der"
    junk.write_bytes(b"\x30\x82\x00\x10 not a certificate")
    assert run_cli(capsys, "verify", "evidence", report, "--vcek", junk, "--at", AT).code == 2
    assert run_cli(capsys, "verify", "evidence", report, "--at", "yesterday").code == 2
    assert run_cli(capsys, "verify", "evidence", tmp_path / "missing.bin").code == 2
    with pytest.raises(SystemExit) as info:
        run_cli(capsys, "verify", "evidence", report, "--platform", "sgx")
    assert info.value.code == 2
    assert (
        run_cli(capsys, "attest", "--platform", "simulated-sev-snp", "--report-data", "abc").code
        == 2
    )


def test_the_console_script_end_to_end(testvectors: Path) -> None:
    report, vcek = snp(testvectors, "milan-v2")
    assert (
        run_script(
            "verify", "evidence", report, "--vcek", vcek, "--product", "milan", "--at", AT
        ).code
        == 0
    )
    assert (
        run_script("verify", "evidence", "-", "--platform", "sev-snp", stdin=b"\x01" * 10).code == 2
    )


def test_tdx_vector_with_its_collateral(
    testvectors: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tdx = testvectors / "tdx"
    args = ("verify", "evidence", tdx / "dcapqvl-v4.quote.bin")
    ok = run_cli(
        capsys,
        *args,
        "--collateral",
        tdx / "dcapqvl-v4.collateral.json",
        "--at",
        "2025-07-01T00:00:00Z",
    )
    assert ok.code == 0, ok.err
    assert "tdx.tcb-status: TCB status UpToDate" in ok.out
    assert "mrtd = 91eb2b44" in ok.out
    missing = run_cli(capsys, *args, "--at", "2025-07-01T00:00:00Z")
    assert (
        missing.code == 3 and "collateral" in missing.err
    )  # offline and missing: never "verified"
    stale = run_cli(
        capsys,
        *args,
        "--collateral",
        tdx / "dcapqvl-v4.collateral.json",
        "--at",
        "2025-09-01T00:00:00Z",
    )
    assert stale.code == 3


def test_simulated_tdx_round_trip(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    state = tmp_path / "state"
    out = tmp_path / "tdx.json"
    assert (
        run_cli(
            capsys,
            "attest",
            "--platform",
            "simulated-tdx",
            "--report-data",
            REPORT_DATA,
            "--out",
            out,
            "--state",
            state,
        ).code
        == 0
    )
    assert run_cli(capsys, "verify", "evidence", out, "--roots", state / "roots").code == 0
    assert run_cli(capsys, "verify", "evidence", out).code == 1


@pytest.fixture(scope="module")
def shared_state(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One state dir for every simulator (a copy of the session's SNP state: RSA-4096 is slow)."""
    state = tmp_path_factory.mktemp("all-simulators") / "state"
    SimulatedSnpProvider(simulated_state_dir())  # make sure the SNP state exists
    shutil.copytree(simulated_state_dir(), state)
    return state


@pytest.mark.parametrize(
    "platform", ["simulated-sev-snp", "simulated-tdx", "simulated-nitro", "simulated-vtpm"]
)
def test_every_simulated_platform_round_trips_with_one_state_dir(
    platform: str,
    shared_state: Path,
    tmp_path_factory: pytest.TempPathFactory,
    capsys: pytest.CaptureFixture[str],
) -> None:
    state = shared_state  # --roots finds each simulator's roots under it
    out = tmp_path_factory.mktemp(platform) / "evidence.json"
    made = run_cli(
        capsys,
        "attest",
        "--platform",
        platform,
        "--report-data",
        REPORT_DATA,
        "--out",
        out,
        "--state",
        state,
    )
    assert made.code == 0, made.err
    assert json.loads(out.read_text())["report_data"] == REPORT_DATA
    assert run_cli(capsys, "verify", "evidence", out, "--roots", state).code == 0
    assert run_cli(capsys, "verify", "evidence", out).code in (1, 3)  # never trusted by default
