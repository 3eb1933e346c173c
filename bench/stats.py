"""Statistics over samples and over repeated runs, and how figures are printed."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass


def rotated(names: Sequence[str], i: int) -> list[str]:
    """The paths in turn, the ``i``-th round starting one further along (so that whatever
    else the machine does falls on every path alike)."""
    k = i % len(names)
    return [*names[k:], *names[:k]]


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (``p`` in 0..100); NaN for no values."""
    if not values:
        return float("nan")
    data = sorted(values)
    return data[min(len(data) - 1, max(0, math.ceil(p / 100 * len(data)) - 1))]


@dataclass(frozen=True)
class Spread:
    """One figure measured in several runs: the median run, and the lowest and highest."""

    median: float
    low: float
    high: float
    runs: int

    @classmethod
    def of(cls, values: Sequence[float]) -> Spread:
        clean = [v for v in values if not math.isnan(v)]
        if not clean:
            return cls(float("nan"), float("nan"), float("nan"), 0)
        return cls(statistics.median(clean), min(clean), max(clean), len(clean))

    def fmt(self, spec: str = ".2f", unit: str = "") -> str:
        """``1.23 ms (1.10…1.40)``: the median run, then the range over runs."""
        if math.isnan(self.median):
            return "n/a"
        main = f"{self.median:{spec}}{unit}"
        if self.runs < 2:
            return main
        return f"{main} <sub>({self.low:{spec}}…{self.high:{spec}})</sub>"

    def to_dict(self) -> dict[str, float]:
        return {"median": self.median, "low": self.low, "high": self.high, "runs": self.runs}


def ratio(a: float, b: float) -> float:
    return a / b if b else float("nan")


def signed(value: float, spec: str = ".2f", unit: str = " ms") -> str:
    return "n/a" if math.isnan(value) else f"{value:+{spec}}{unit}"


def table(header: Sequence[str], rows: Sequence[Sequence[str]], align: str = "") -> str:
    """A Markdown table; ``align`` holds one of ``l``/``r`` per column (default: first left)."""
    align = align or "l" + "r" * (len(header) - 1)
    marks = ["---:" if a == "r" else "---" for a in align]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(marks) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)
