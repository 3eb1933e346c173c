"""Where the time goes: the top entries of a profile, as a Markdown table.

Servers under load are sampled from outside with ``py-spy record --format raw`` (folded
stacks, no change to the process); code that runs in this process is profiled with
``cProfile``. Both are reduced to the same table: the functions with the most samples
(or time) in themselves, and the share of the whole each accounts for.
"""

from __future__ import annotations

import collections
import cProfile
import pstats
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench.stats import table

Entry = tuple[str, float, float]  # function, share in itself, share including callees


def _short(frame: str) -> str:
    """``name (path/to/module.py:12)`` -> ``name (module.py:12)`` minus site-packages noise."""
    name, _, where = frame.partition(" (")
    where = where.rstrip(")")
    for marker in ("site-packages/", "python3.11/", "wt-bench/", "/work/"):
        if marker in where:
            where = where.split(marker, 1)[1]
    return f"`{name}` ({where})" if where else f"`{name}`"


def pyspy_available() -> bool:
    return _pyspy() is not None


def _pyspy() -> str | None:
    found = Path(sys.executable).parent / "py-spy"
    return str(found) if found.exists() else shutil.which("py-spy")


def pyspy_start(pid: int, seconds: float, out: Path) -> subprocess.Popen[bytes] | None:
    """Sample ``pid`` for ``seconds`` without pausing it; read with :func:`pyspy_profile`."""
    binary = _pyspy()
    if binary is None:
        return None
    argv = [binary, "record", "--pid", str(pid), "--duration", str(max(1, round(seconds))),
            "--rate", "200", "--format", "raw", "--nonblocking", "--threads", "-o", str(out)]  # fmt: skip
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _package(frame: str) -> str:
    """Which package a frame's code is in (py-spy names files from their package root)."""
    where = frame.partition(" (")[2].rstrip(")")
    return where.split("/", 1)[0].removesuffix(".py") or "native"


def _function(frame: str) -> str:
    """``name (file:line)`` -> ``name (file)``: one entry per function, whatever the line."""
    name, _, where = frame.partition(" (")
    return f"{name} ({where.rstrip(')').rsplit(':', 1)[0]})" if where else name


@dataclass(frozen=True)
class Profile:
    top: list[Entry]  # the functions with the most samples in themselves
    packages: list[tuple[str, float]]  # share of samples whose innermost frame is in each
    samples: int


def pyspy_profile(out: Path, n: int = 12) -> Profile:
    own: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    packages: collections.Counter[str] = collections.Counter()
    total = 0
    lines = out.read_text().splitlines() if out.exists() else []
    for line in lines:
        stack, _, count = line.rpartition(" ")
        frames = [_function(f) for f in stack.split(";")
                  if f and not f.startswith(("thread (", "process "))]  # fmt: skip
        if not frames or not count.isdigit():
            continue
        samples = int(count)
        total += samples
        own[frames[-1]] += samples
        packages[_package(frames[-1])] += samples
        for frame in set(frames):
            inclusive[frame] += samples
    if not total:
        return Profile([], [], 0)
    top = [(f, c / total, inclusive[f] / total) for f, c in own.most_common(n)]
    return Profile(top, [(p, c / total) for p, c in packages.most_common(8)], total)


def cprofile_top(work: Callable[[], object], n: int = 12) -> list[Entry]:
    """Run ``work`` under cProfile; the ``n`` functions with the most time in themselves."""
    profiler = cProfile.Profile()
    profiler.runcall(work)
    stats = pstats.Stats(profiler)
    raw = stats.stats  # type: ignore[attr-defined]
    total = sum(v[2] for v in raw.values()) or 1.0
    rows = sorted(raw.items(), key=lambda item: item[1][2], reverse=True)[:n]
    return [
        (func if file == "~" else f"{func} ({Path(file).name}:{line})", v[2] / total, v[3] / total)
        for (file, line, func), v in rows
    ]


def top_table(entries: list[Entry]) -> str:
    rows = [[_short(f), f"{own:.1%}", f"{incl:.1%}"] for f, own, incl in entries]
    return table(["function", "in itself", "with callees"], rows, "lrr")
