"""The benchmark suite itself: it runs, it writes the page, its parts fit the time budget.

Timing figures are never asserted (speed is measured by the benchmarks, not tested): this
keeps ``python -m bench`` from rotting between full runs, on a few seconds of work.
"""

from __future__ import annotations

import json
import subprocess
import sys

from bench import plots
from bench.stats import Spread, percentile
from bench.suite import SERVERS_BUDGET, Options, discover
from tests.conftest import REPO

FULL_RUN_LIMIT_S = 30 * 60
PROJECT_INSTALL_S = 3 * 60  # `make bench` on a fresh clone first builds .venv


def test_quick_run_of_the_stack_free_families_writes_a_whole_page(tmp_path):
    page = tmp_path / "docs" / "benchmarks.md"
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--only", "headroom,receipts,attestation,anchor",
         "--no-litellm", "--no-postgres", "--page", str(page), "--results", str(tmp_path / "raw")],
        cwd=REPO, capture_output=True, text=True, timeout=240, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    text = page.read_text()
    for heading in ("# Benchmarks", "## Summary: the budgets of DESIGN.md", "## Machine",
                    "## How it was measured", "## Load generator headroom",
                    "## Receipts: signing and verifying", "## Attestation: evidence verified",
                    "## Commands and runtime"):  # fmt: skip
        assert heading in text
    assert "Smoke run (`--quick`)" in text
    assert "load average (1/5/15 min) at start" in text
    assert "failed in this run" not in text
    assert "receipts/s on one core" in text  # the receipts family's budget row
    assert "Not run by `--quick`; run `python -m bench.bench_anchor`" in text  # a plain script
    raw = json.loads((tmp_path / "raw" / "suite.json").read_text())
    assert {"machine", "headroom", "receipts", "attestation"} <= raw.keys()
    assert raw["receipts"]["verify"]["median"] > 0


def test_every_family_is_discovered_and_the_full_run_fits_in_30_minutes():
    families = discover(Options())
    names = [f.name for f in families]
    assert {"headroom", "receipts", "attestation", "clients", "latency", "throughput", "profile",
            "memory"} <= set(names)  # fmt: skip
    assert len(names) == len(set(names))
    assert all(f.run is not None or f.budget > 0 for f in families)  # plain scripts run in full
    assert [f.order for f in families] == sorted(f.order for f in families)
    planned = sum(f.budget for f in families) + SERVERS_BUDGET[0]
    assert planned + PROJECT_INSTALL_S <= FULL_RUN_LIMIT_S, f"{planned:.0f} s planned"


def test_plots_are_written_as_png(tmp_path):
    bars, lines = tmp_path / "bars.png", tmp_path / "lines.png"
    plots.bars(bars, title="t", groups=["a", "b"], series={"x": [1.0, 2.0], "y": [0.5, float("nan")]},
               errors={"x": ([0.8, 1.5], [1.2, 2.5])}, ylabel="ms", log=True)  # fmt: skip
    plots.lines(lines, title="t", x={"x": [16, 64, 256]}, series={"x": [1.0, 2.0, 3.0]},
                xlabel="clients", ylabel="req/s", logx=True, logy=True)  # fmt: skip
    for path in (bars, lines):
        assert path.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_percentiles_are_nearest_rank_and_runs_summarise_as_median_and_range():
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50.0
    assert percentile(values, 99) == 99.0
    assert percentile([3.0], 99) == 3.0
    spread = Spread.of([3.0, 1.0, 2.0, float("nan")])
    assert (spread.median, spread.low, spread.high, spread.runs) == (2.0, 1.0, 3.0, 3)
    assert spread.fmt(".1f", " ms") == "2.0 ms <sub>(1.0…3.0)</sub>"


def test_a_plain_script_is_titled_by_its_whole_first_paragraph():
    (family,) = discover(Options(only=frozenset({"transparency"})))
    assert family.run is None  # a plain script
    assert family.title == (
        "Transparency costs: gas per checkpoint and per transcript through the publisher, and "
        "``veritee verify bundle`` throughput on one core"
    )


def test_the_block_table_subtracts_direct_at_each_percentile():
    from bench.bench_latency import _blocks_table
    from bench.probe import Exchange
    from bench.stacks import Target

    def runs(ms: list[float]) -> list[Exchange]:
        return [Exchange(m, m, m, 1) for m in ms]

    targets = {"direct": Target("direct", "u", {}), "gateway": Target("gateway", "u", {})}
    samples = {"direct": runs([1.0] * 99 + [5.0]), "gateway": runs([3.0] * 99 + [9.0])}
    text, data = _blocks_table(samples, targets)
    assert data["gateway"]["added_p50"] == 2.0
    assert data["gateway"]["added_p99"] == percentile([3.0] * 99 + [9.0], 99) - percentile(
        [1.0] * 99 + [5.0], 99
    )
    assert "| veritee gateway + enclave (SQLite) | 3.00 |" in text
    assert "+2.00" in text


def test_each_round_starts_one_path_further_along():
    from bench.stats import rotated

    names = ["direct", "enclave", "gateway"]
    assert [rotated(names, i) for i in range(4)] == [
        ["direct", "enclave", "gateway"],
        ["enclave", "gateway", "direct"],
        ["gateway", "direct", "enclave"],
        ["direct", "enclave", "gateway"],
    ]
