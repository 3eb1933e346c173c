"""Throughput at 16, 64 and 256 concurrent clients against an upstream that takes 50 ms.

The load generator (its own process on the world CPU) keeps N keep-alive connections busy,
each sending its next request as soon as the last answer is complete. With the upstream
taking 50 ms, N clients can do at most N / 0.05 requests per second; a proxy keeps up as
long as its CPU does. The paths take turns in short slices (direct, enclave, gateway,
LiteLLM, direct, ...) and each slice's rate is divided by the direct rate of the same round.
"""

from __future__ import annotations

import math
from typing import Any

from bench import plots
from bench.cpu import cpu_seconds
from bench.loadgen import Load, Result
from bench.probe import chat_body
from bench.stacks import Target
from bench.stats import Spread, percentile, rotated, table
from bench.suite import BudgetRow, Context, Headline, Options, Section

TITLE = "Throughput under load"
ORDER = 50
SERVERS = True
LEVELS = (16, 64, 256)
LATENCY_MS = 50
PATHS = ("direct", "enclave", "gateway", "litellm")
BUDGET_RATIO = 0.95


def budget(options: Options) -> float:
    return 30 if options.quick else 200


def _slice(
    ctx: Context, target: Target, clients: int, seconds: float, warmup: float
) -> dict[str, Any]:
    load = Load(target.url, chat_body(stream=False, latency_ms=LATENCY_MS), clients,
                target.headers, target.cafile)  # fmt: skip
    before = {proc: cpu_seconds(pid) for proc, pid in target.pids.items()}
    (result,) = ctx.loadgen().run([load], duration=seconds, warmup=warmup)
    spent = {proc: cpu_seconds(pid) - before[proc] for proc, pid in target.pids.items()}
    return {"result": result, "cpu_s": spent}


def _summary(slices: list[dict[str, Any]], wall: float) -> dict[str, Any]:
    results: list[Result] = [s["result"] for s in slices]
    latencies = [x for r in results for x in r.latencies]
    total = sum(r.total for r in results)
    procs = slices[0]["cpu_s"].keys()
    return {
        "rate": Spread.of([r.rate for r in results]),
        "p50": percentile(latencies, 50),
        "p99": percentile(latencies, 99),
        "errors": sum(r.errors for r in results),
        "loadgen_util": max(r.loadgen_cpu_seconds / wall for r in results),
        "loadgen_us": sum(r.loadgen_cpu_seconds for r in results) / max(1, total) * 1e6,
        "cpu_us": {p: sum(s["cpu_s"][p] for s in slices) / max(1, total) * 1e6 for p in procs},
    }


def run(ctx: Context) -> Section:
    targets = {n: t for n, t in ctx.stacks().targets.items() if n in PATHS}
    rounds, seconds, warmup = ctx.pick(3, 1), ctx.pick(3.0, 1.0), ctx.pick(1.5, 0.5)
    names = list(targets)
    figures: dict[int, dict[str, Any]] = {}
    for clients in ctx.pick(LEVELS, LEVELS):
        slices: dict[str, list[dict[str, Any]]] = {n: [] for n in names}
        ratios: dict[str, list[float]] = {n: [] for n in names}
        for i in range(rounds):
            order = rotated(names, i)
            done = {n: _slice(ctx, targets[n], clients, seconds, warmup) for n in order}
            for n in names:
                slices[n].append(done[n])
                ratios[n].append(done[n]["result"].rate / done["direct"]["result"].rate)
        figures[clients] = {n: _summary(slices[n], seconds + warmup) | {"ratio": Spread.of(ratios[n])}
                            for n in names}  # fmt: skip
    ctx.data["max_rate"] = max(f[n]["rate"].high for f in figures.values() for n in names)
    _plot(ctx, targets, figures)
    text = _text(ctx, targets, figures, rounds, seconds, warmup) + _ceiling(figures)
    return Section(TITLE, text, _budgets(figures), _raw(figures), _headlines(figures))


def _path_cpu(figures: dict[int, dict[str, Any]], clients: int, name: str) -> float:
    """CPU per request of every process on a path (µs), at ``clients``."""
    return float(sum(figures[clients][name]["cpu_us"].values()))


def _ceiling(figures: dict[int, dict[str, Any]]) -> str:
    """What one core can do at the CPU cost per request measured at 64 clients."""
    if "gateway" not in figures.get(64, {}):
        return ""
    asked = 64 / LATENCY_MS * 1000
    lines = []
    for name, label in (("gateway", "veritee's whole path (gateway + enclave)"),
                        ("litellm", "LiteLLM")):  # fmt: skip
        if name in figures[64]:
            us = _path_cpu(figures, 64, name)
            busy = figures[64][name]["rate"].median * us / 1e6
            lines.append(f"{label} costs {us:,.0f} µs of CPU per request, so its core can serve "
                         f"at most about {1e6 / us:,.0f} requests/s ({1e6 / us / asked:.0%} of what "
                         f"64 clients ask for; measured: {figures[64][name]['ratio'].median:.0%}, "
                         f"with its processes using {busy:.0%} of their core)")  # fmt: skip
    return (f"\nWhy: at 64 clients and {LATENCY_MS} ms, the clients ask for {asked:,.0f} "
            "requests/s. " + "; ".join(lines) + ". The throughput of a proxy on one core is "
            "its CPU cost per request; where it goes is in \"Where the time goes\". Where the "
            "processes under test used less than all of their core, the rest went to other "
            "jobs of this shared machine (see the load average), which the pinning cannot keep "
            "off that core.\n")  # fmt: skip


def _headlines(figures: dict[int, dict[str, Any]]) -> list[Headline]:
    rows = []
    for clients, per in figures.items():
        if "gateway" in per and "litellm" in per:
            rows.append(Headline(f"throughput at {clients} clients, share of direct",
                                 f"{per['gateway']['ratio'].median:.1%}",
                                 f"{per['litellm']['ratio'].median:.1%}"))  # fmt: skip
    if rows and 64 in figures:
        rows.append(Headline("CPU per request at 64 clients (all processes of the path)",
                             f"{_path_cpu(figures, 64, 'gateway'):,.0f} µs",
                             f"{_path_cpu(figures, 64, 'litellm'):,.0f} µs"))  # fmt: skip
    return rows


def _text(ctx: Context, targets: dict[str, Target], figures: dict[int, dict[str, Any]],
          rounds: int, seconds: float, warmup: float) -> str:  # fmt: skip
    names = list(targets)
    head = ["clients", "ideal"] + [targets[n].label for n in names]
    rows = []
    for clients, f in figures.items():
        cells = [str(clients), f"{clients / LATENCY_MS * 1000:,.0f}"]
        for n in names:
            rate = f[n]["rate"].fmt(",.0f")
            cells.append(rate if n == "direct" else f"{rate}<br>**{f[n]['ratio'].median:.1%}** "
                         f"<sub>({f[n]['ratio'].low:.0%}…{f[n]['ratio'].high:.0%})</sub>")  # fmt: skip
        rows.append(cells)
    detail = []
    for clients, f in figures.items():
        for n in names:
            cpu = ", ".join(f"{p} {us:,.0f} µs" for p, us in f[n]["cpu_us"].items()) or "-"
            detail.append([str(clients), targets[n].label, f"{f[n]['p50']:,.1f}", f"{f[n]['p99']:,.1f}",
                           str(f[n]["errors"]), cpu, f"{f[n]['loadgen_util']:.0%}",
                           f"{f[n]['loadgen_us']:.0f} µs"])  # fmt: skip
    capacity = ctx.data.get("loadgen_capacity")
    headroom = (
        f" The highest rate in any slice was {ctx.data['max_rate']:,.0f} requests/s, "
        f"{ctx.data['max_rate'] / capacity:.0%} of what one core of the generator can offer "
        f"({capacity:,.0f}/s, see \"Load generator headroom\")."
        if capacity else ""
    )  # fmt: skip
    direct256 = figures.get(256, {}).get("direct")
    capped = (
        f" At 256 clients the direct path reached {direct256['rate'].median:,.0f} of the ideal "
        f"{256 / LATENCY_MS * 1000:,.0f} requests/s: there the simulator and the load generator, "
        "sharing the world core, are the limit, so the ratios at 256 flatter every proxy alike."
        if direct256 and direct256["rate"].median < 0.9 * 256 / LATENCY_MS * 1000 else ""
    )  # fmt: skip
    return f"""{__doc__.split(chr(10) * 2, 1)[1].strip()}

{rounds} round(s) per level; each slice {seconds:g} s measured after {warmup:g} s of warm-up.
Requests per second (median round, range), and through each proxy its share of direct in
the same round (median, range). Each proxy has one core (see "How it was measured").

{table(head, rows, "r" * len(head))}

![Throughput against concurrency]({ctx.figure("throughput")[1]})

Latency under load (ms, pooled over the rounds), errors, CPU per request of each server
process, and the load generator's own use of its core (highest slice) and CPU per request:

{table(["clients", "path", "p50", "p99", "errors", "CPU per request", "generator CPU",
        "generator per request"], detail, "rlrrrlrr")}

The load generator was never the bottleneck: its utilisation above stays well below one
core.{headroom}{capped}
"""  # fmt: skip


def _plot(ctx: Context, targets: dict[str, Target], figures: dict[int, dict[str, Any]]) -> None:
    levels = list(figures)
    series = {targets[n].label: [figures[c][n]["rate"].median for c in levels] for n in targets}
    series["ideal (clients / 50 ms)"] = [c / LATENCY_MS * 1000 for c in levels]
    path, _ = ctx.figure("throughput")
    plots.lines(path, title=f"Requests/s against concurrency, upstream {LATENCY_MS} ms",
                x={label: levels for label in series}, series=series, xlabel="concurrent clients",
                ylabel="requests/s (log scale)", logx=True, logy=True)  # fmt: skip


def _budgets(figures: dict[int, dict[str, Any]]) -> list[BudgetRow]:
    at64 = figures.get(64, {})
    if "gateway" not in at64:
        return []
    ratio = at64["gateway"]["ratio"].median
    lite = at64.get("litellm")
    return [
        BudgetRow(
            "throughput through the gateway >= 95% of direct (64 clients, 50 ms upstream)",
            f"{ratio:.1%} of direct",
            ratio >= BUDGET_RATIO,
            ""
            if ratio >= BUDGET_RATIO or math.isnan(ratio)
            else f"{BUDGET_RATIO - ratio:.1%} points",
            f"{lite['ratio'].median:.1%} of direct" if lite else "",
        )
    ]


def _raw(figures: dict[int, dict[str, Any]]) -> dict[str, Any]:
    return {
        str(c): {n: {k: (v.to_dict() if isinstance(v, Spread) else v) for k, v in f.items()}
                 for n, f in per.items()}
        for c, per in figures.items()
    }  # fmt: skip
