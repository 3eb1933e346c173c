"""The page's plots (PNG, matplotlib without a display): grouped bars and lines."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt

from bench.stacks import LABELS

Series = dict[str, Sequence[float]]
# One colour per path, the same in every plot: veritee in blues, LiteLLM in orange.
COLOURS = {
    LABELS["direct"]: "#718096",
    LABELS["enclave"]: "#63b3ed",
    LABELS["gateway"]: "#2b6cb0",
    LABELS["gateway-pg"]: "#1a365d",
    LABELS["litellm"]: "#dd6b20",
    "gateway": "#2b6cb0",  # processes, in the memory plot
    "enclave": "#63b3ed",
    "litellm": "#dd6b20",
}


def _colour(label: str, index: int) -> str:
    return COLOURS.get(label, f"C{index}")


def _save(fig: plt.Figure, path: Path) -> None:
    fig.tight_layout()
    fig.savefig(path, dpi=110, metadata={"Software": None})
    plt.close(fig)


def bars(
    path: Path,
    *,
    title: str,
    groups: Sequence[str],
    series: Series,
    errors: dict[str, tuple[Sequence[float], Sequence[float]]] | None = None,
    ylabel: str,
    log: bool = False,
) -> None:
    """One group of bars per entry of ``groups``; one bar per series; optional low/high."""
    fig, ax = plt.subplots(figsize=(8, 4))
    width = 0.8 / max(1, len(series))
    for i, (label, values) in enumerate(series.items()):
        xs = [g + (i - (len(series) - 1) / 2) * width for g in range(len(groups))]
        ys = [0.0 if math.isnan(v) else v for v in values]
        yerr = None
        if errors and label in errors:
            low, high = errors[label]
            yerr = [
                [
                    max(0.0, y - lo) if not math.isnan(lo) else 0
                    for y, lo in zip(ys, low, strict=True)
                ],
                [
                    max(0.0, hi - y) if not math.isnan(hi) else 0
                    for y, hi in zip(ys, high, strict=True)
                ],
            ]
        ax.bar(xs, ys, width, label=label, yerr=yerr, capsize=3, color=_colour(label, i))
    ax.set_xticks(range(len(groups)), groups)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    if log:
        ax.set_yscale("log")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize="small")
    _save(fig, path)


def lines(
    path: Path,
    *,
    title: str,
    x: dict[str, Sequence[float]],
    series: Series,
    xlabel: str,
    ylabel: str,
    logx: bool = False,
    logy: bool = False,
) -> None:
    """One line per series, each with its own x values (``x[label]``); "ideal..." dashed."""
    fig, ax = plt.subplots(figsize=(8, 4))
    for i, (label, ys) in enumerate(series.items()):
        style = "--" if label.startswith("ideal") else "-"
        ax.plot(x[label], ys, style, marker="o", markersize=3, label=label, color=_colour(label, i))
    if logx:
        ax.set_xscale("log", base=2)
        ticks = sorted({v for xs in x.values() for v in xs})
        ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
    if logy:
        ax.set_yscale("log")
    else:
        ax.set_ylim(bottom=0)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    _save(fig, path)
