"""Run fuzz targets under atheris, one after the other, and report what each did.

Layout of the work directory (``.fuzz/`` by default, never committed)::

    state/              the simulators' keys and roots (created once)
    seeds/<target>/     seed inputs, rebuilt every run from the vectors and simulators
    corpus/<target>/    what libFuzzer found interesting; grows from run to run
    artifacts/<target>/ crash-*, timeout-*, oom-* inputs
    logs/<target>.log   libFuzzer's output
    results/<time>.json the figures of each run

Each target runs in its own process (:mod:`fuzz.child`) for ``seconds * weight`` seconds,
on one core. The figures come from libFuzzer's own output: executions, ``cov`` (edges of
veritee's code reached) and ``ft`` (features), corpus size, and the crash if there was one.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from fuzz.contract import Target

PER_INPUT_TIMEOUT = 25  # seconds: longer than any legitimate input takes, by far
RSS_LIMIT_MB = 2048
_PROGRESS = re.compile(r"cov: (\d+) ft: (\d+) corp: (\d+)/")
_STAT = re.compile(r"stat::(\w+):\s+(\d+)")
_ARTIFACT = re.compile(r"(?:Test unit written to|artifact_prefix.*?Test unit written to) (\S+)")
_ERROR = re.compile(r"ERROR: libFuzzer: ([\w -]+)")


@dataclass
class Result:
    """What one target's run did; ``outcome`` is ``ok``, ``crash``, ``timeout`` or ``oom``."""

    target: str
    seconds: int
    executions: int
    exec_per_sec: int
    coverage: int
    features: int
    corpus: int
    seeds: int
    outcome: str
    slowest_unit_sec: int = 0
    peak_rss_mb: int = 0
    artifact: str | None = None
    exception: str | None = None


def write_seeds(directory: Path, seeds: list[bytes]) -> int:
    """Replace ``directory``'s content with ``seeds`` (named by their SHA-1, as libFuzzer does)."""
    directory.mkdir(parents=True, exist_ok=True)
    for old in directory.iterdir():
        old.unlink()
    for seed in seeds:
        (directory / hashlib.sha1(seed, usedforsecurity=False).hexdigest()).write_bytes(seed)
    return len(set(seeds))


def write_dictionary(path: Path, tokens: tuple[bytes, ...]) -> Path:
    """A libFuzzer dictionary: one ``"token"`` per line, bytes outside printable ASCII escaped."""

    def escape(token: bytes) -> str:
        return "".join(
            chr(b) if 0x20 <= b < 0x7F and b not in b'"\\' else f"\\x{b:02x}" for b in token
        )

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f'"{escape(t)}"\n' for t in tokens))
    return path


def parse_output(target: str, seconds: int, seeds: int, log: str, returncode: int) -> Result:
    """The figures of one run, from libFuzzer's output."""
    progress = _PROGRESS.findall(log)
    cov, ft, corpus = (int(v) for v in progress[-1]) if progress else (0, 0, 0)
    stats = {k: int(v) for k, v in _STAT.findall(log)}
    executions = stats.get("number_of_executed_units", 0)
    if not executions and (runs := re.findall(r"^#(\d+)", log, re.MULTILINE)):
        executions = int(runs[-1])
    artifact = _ARTIFACT.findall(log)
    error = _ERROR.findall(log)
    outcome = "ok"
    if returncode != 0 or artifact:
        kind = error[-1] if error else "crash"
        outcome = "timeout" if "timeout" in kind else "oom" if "out-of-memory" in kind else "crash"
    exception = None
    if "Uncaught Python exception" in log:
        # atheris prints the exception line first, then the traceback.
        after = log.split("=== Uncaught Python exception: ===", 1)[1].strip().splitlines()
        exception = after[0] if after else None
    return Result(
        target=target,
        seconds=seconds,
        executions=executions,
        exec_per_sec=stats.get("average_exec_per_sec", executions // max(seconds, 1)),
        coverage=cov,
        features=ft,
        corpus=corpus,
        seeds=seeds,
        outcome=outcome,
        slowest_unit_sec=stats.get("slowest_unit_time_sec", 0),
        peak_rss_mb=stats.get("peak_rss_mb", 0),
        artifact=artifact[-1] if artifact else None,
        exception=exception,
    )


def run_target(target: Target, *, work: Path, seconds: int, seeds: int) -> Result:
    """Fuzz ``target`` for ``seconds`` in a child process; its output goes to logs/."""
    corpus, seed_dir = work / "corpus" / target.name, work / "seeds" / target.name
    artifacts = work / "artifacts" / target.name
    for directory in (corpus, artifacts, work / "logs"):
        directory.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable, "-m", "fuzz.child", target.name, str(work / "state"),
        f"-max_total_time={seconds}", f"-max_len={target.max_len}",
        f"-timeout={PER_INPUT_TIMEOUT}", f"-rss_limit_mb={RSS_LIMIT_MB}",
        "-print_final_stats=1", "-use_value_profile=1", f"-artifact_prefix={artifacts}/",
        str(corpus), str(seed_dir),
    ]  # fmt: skip
    if target.dictionary:
        dictionary = write_dictionary(work / "dicts" / f"{target.name}.dict", target.dictionary)
        command.insert(-2, f"-dict={dictionary}")
    log_path = work / "logs" / f"{target.name}.log"
    with log_path.open("w") as log:
        process = subprocess.run(command, stdout=log, stderr=subprocess.STDOUT, check=False)
    return parse_output(target.name, seconds, seeds, log_path.read_text(), process.returncode)


def campaign(
    targets: list[Target], *, work: Path, seconds: int, vectors: Path | None
) -> list[Result]:
    """Build the seeds, then fuzz each target in turn; print and save the figures."""
    from fuzz.material import DEFAULT_VECTORS, Material

    material = Material(work / "state", vectors if vectors is not None else DEFAULT_VECTORS)
    if material.vectors is None:
        print("note: real test vectors not found; seeding from the simulators only")
    counts = {
        t.name: write_seeds(work / "seeds" / t.name, list(t.seeds(material))) for t in targets
    }
    started = datetime.now(UTC)
    results = []
    for target in targets:
        duration = seconds * target.weight
        print(f"{target.name}: fuzzing for {duration} s ...", flush=True)
        began = time.monotonic()
        result = run_target(target, work=work, seconds=duration, seeds=counts[target.name])
        result.seconds = round(time.monotonic() - began)
        print(f"  {describe(result)}", flush=True)
        results.append(result)
    print(table(results))
    save(results, work, started)
    return results


def describe(r: Result) -> str:
    line = f"{r.outcome}: {r.executions} runs, cov {r.coverage}, ft {r.features}, corpus {r.corpus}"
    if r.outcome != "ok":
        line += f"; {r.exception or r.outcome} -> {r.artifact}"
    return line


def table(results: list[Result]) -> str:
    rows = [
        (
            "target",
            "seconds",
            "runs",
            "runs/s",
            "cov",
            "ft",
            "corpus",
            "slowest s",
            "rss MB",
            "outcome",
        )
    ]
    rows += [
        (r.target, str(r.seconds), str(r.executions), str(r.exec_per_sec), str(r.coverage),
         str(r.features), str(r.corpus), str(r.slowest_unit_sec), str(r.peak_rss_mb), r.outcome)
        for r in results
    ]  # fmt: skip
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(
            cell.ljust(w) if i == 0 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in rows
    )


def markdown(results: list[dict[str, object]]) -> str:
    """A saved run (``results/*.json``) as the Markdown table of docs/fuzzing.md."""
    head = "| target | seconds | runs | runs/s | cov | ft | corpus | slowest input (s) | peak RSS (MB) | outcome |"
    lines = [head, "|---|" + "---:|" * 8 + "---|"]
    keys = ("seconds", "executions", "exec_per_sec", "coverage", "features", "corpus",
            "slowest_unit_sec", "peak_rss_mb")  # fmt: skip
    for r in results:
        cells = [f"`{r['target']}`", *(f"{r[k]:,}" for k in keys), str(r["outcome"])]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def save(results: list[Result], work: Path, started: datetime) -> Path:
    import json

    path = work / "results" / f"{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps([asdict(r) for r in results], indent=2) + "\n")
    return path
