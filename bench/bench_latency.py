"""Latency at concurrency 1, non-streamed and streamed, every path against direct.

One client (``bench.probe``: a blocking keep-alive connection per path, one request at a
time) sends the same request to every path in turn, request by request, rotating which path
goes first, so that whatever else the machine does falls on all paths alike. Streams
measure the time to the first token (the first content event) and the time per chunk
(from the first content event to the last, divided by the gaps between them). The upstream
answers at once (no simulated latency) and streams its ~30 chunks back to back, so what a
path adds is all there is to see. A time per chunk near 0 means the chunks reached the
client together, as they left the upstream: the path forwarded them as fast as they came.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from bench import plots
from bench.cpu import cpu_seconds
from bench.probe import Exchange, Probe, chat_body
from bench.stacks import Target
from bench.stats import Spread, percentile, rotated, signed, table
from bench.suite import BudgetRow, Context, Headline, Options, Section

TITLE = "Latency at concurrency 1"
ORDER = 40
SERVERS = True
BUDGET_P50_MS, BUDGET_P99_MS, BUDGET_TTFT_MS = 1.0, 3.0, 1.0


def budget(options: Options) -> float:
    return 25 if options.quick else 150


Samples = dict[str, list[Exchange]]


@contextmanager
def _probes(targets: dict[str, Target], *, stream: bool) -> Iterator[dict[str, Probe]]:
    """One probe (a keep-alive connection) per path, closed afterwards."""
    body = chat_body(stream=stream)
    probes = {name: Probe(t, body, stream=stream) for name, t in targets.items()}
    try:
        yield probes
    finally:
        for probe in probes.values():
            probe.close()


def interleave(targets: dict[str, Target], *, stream: bool, rounds: int, warmup: int,
               runs: int) -> tuple[list[Samples], dict[str, float]]:  # fmt: skip
    """``runs`` runs of ``rounds`` rounds (one request per path each); and the CPU time per
    request of each process of the system under test (µs)."""
    names = list(targets)
    pids = {proc: pid for t in targets.values() for proc, pid in t.pids.items()}
    served = {proc: sum(proc in t.pids for t in targets.values()) for proc in pids}
    with _probes(targets, stream=stream) as probes:
        for i in range(warmup):
            for name in rotated(names, i):
                probes[name].once()
        before = {proc: cpu_seconds(pid) for proc, pid in pids.items()}
        results: list[Samples] = []
        for _ in range(runs):
            samples: Samples = {name: [] for name in names}
            for i in range(rounds):
                for name in rotated(names, i):
                    samples[name].append(probes[name].once())
            results.append(samples)
        cpu = {
            proc: (cpu_seconds(pid) - before[proc]) / (runs * rounds * served[proc]) * 1e6
            for proc, pid in pids.items()
        }
    return results, cpu


def in_blocks(targets: dict[str, Target], *, block: int, blocks: int, skip: int) -> Samples:
    """Each path in turn sends ``block`` requests back to back (rotating which goes first);
    the first ``skip`` of every block are left out, so each figure is of a process whose
    caches are its own again, as on a core it does not share with the other paths."""
    names = list(targets)
    samples: Samples = {name: [] for name in names}
    with _probes(targets, stream=False) as probes:
        for i in range(blocks):
            for name in rotated(names, i):
                exchanges = [probes[name].once() for _ in range(block)]
                samples[name].extend(exchanges[skip:])
    return samples


def _blocks_table(samples: Samples, targets: dict[str, Target]) -> tuple[str, dict[str, Any]]:
    direct = {p: percentile([x.total_ms for x in samples["direct"]], p) for p in (50, 99)}
    rows, data = [], {}
    for name, target in targets.items():
        mine = {p: percentile([x.total_ms for x in samples[name]], p) for p in (50, 99)}
        added = {p: mine[p] - direct[p] for p in (50, 99)}
        data[name] = {"p50": mine[50], "p99": mine[99], "added_p50": added[50],
                      "added_p99": added[99]}  # fmt: skip
        is_direct = name == "direct"
        rows.append([target.label, f"{mine[50]:.2f}", f"{mine[99]:.2f}",
                     "" if is_direct else f"{added[50]:+.2f}",
                     "" if is_direct else f"{added[99]:+.2f}"])  # fmt: skip
    return table(["path", "p50", "p99", "added p50", "added p99"], rows, "lrrrr"), data


def per_run(runs: list[Samples], name: str, value: Callable[[Exchange], float], p: float,
            minus: str | None = None) -> Spread:  # fmt: skip
    """Percentile ``p`` of ``value`` on path ``name`` in each run (less direct's, if asked)."""
    out = []
    for samples in runs:
        figure = percentile([value(x) for x in samples[name]], p)
        if minus is not None:
            figure -= percentile([value(x) for x in samples[minus]], p)
        out.append(figure)
    return Spread.of(out)


def _cpu(cpu: dict[str, float], target: Target) -> str:
    return ", ".join(f"{proc} {cpu[proc]:,.0f} µs" for proc in target.pids) or "-"


def run(ctx: Context) -> Section:
    stacks = ctx.stacks()
    targets = stacks.targets
    runs, rounds, warmup = ctx.pick(5, 2), ctx.pick(300, 15), ctx.pick(30, 5)
    plain, plain_cpu = interleave(targets, stream=False, rounds=rounds, warmup=warmup, runs=runs)
    streams, stream_cpu = interleave(
        targets, stream=True, rounds=rounds // 2, warmup=warmup, runs=runs
    )
    block, blocks, skip = ctx.pick(100, 10), ctx.pick(10, 2), ctx.pick(10, 2)
    blocked = in_blocks(targets, block=block, blocks=blocks, skip=skip)

    def total(x: Exchange) -> float:
        return x.total_ms

    def first(x: Exchange) -> float:
        return x.first_ms

    def chunk(x: Exchange) -> float:
        return x.per_chunk_ms

    rows, srows, data = [], [], {}
    added: dict[str, dict[str, Spread]] = {}
    for name, target in targets.items():
        minus = None if name == "direct" else "direct"
        figures = {
            "p50": per_run(plain, name, total, 50), "p99": per_run(plain, name, total, 99),
            "ttft50": per_run(streams, name, first, 50), "ttft99": per_run(streams, name, first, 99),
            "chunk50": per_run(streams, name, chunk, 50),
        }  # fmt: skip
        if minus:
            added[name] = {
                "p50": per_run(plain, name, total, 50, minus),
                "p99": per_run(plain, name, total, 99, minus),
                "ttft50": per_run(streams, name, first, 50, minus),
                "ttft99": per_run(streams, name, first, 99, minus),
                "chunk50": per_run(streams, name, chunk, 50, minus),
            }
        a = added.get(name, {})
        chunks = int(percentile([x.events for x in streams[0][name]], 50))
        rows.append([target.label, figures["p50"].fmt(), figures["p99"].fmt(),
                     a["p50"].fmt("+.2f") if a else "", a["p99"].fmt("+.2f") if a else "",
                     _cpu(plain_cpu, target)])  # fmt: skip
        srows.append([target.label, figures["ttft50"].fmt(), figures["ttft99"].fmt(),
                      a["ttft50"].fmt("+.2f") if a else "",
                      f"{figures['chunk50'].median * 1000:,.0f} µs",
                      signed(a["chunk50"].median * 1000, ",.0f", " µs") if a else "",
                      str(chunks), _cpu(stream_cpu, target)])  # fmt: skip
        data[name] = {k: v.to_dict() for k, v in figures.items()} | {
            "added": {k: v.to_dict() for k, v in a.items()}
        }
    _plot(ctx, targets, added)
    blocks_md, data["blocks"] = _blocks_table(blocked, targets)
    text = f"""{__doc__.split(chr(10) * 2, 1)[1].strip()}

{runs} runs of {rounds} rounds (non-streamed) and {rounds // 2} rounds (streamed) after
{warmup} rounds of warm-up; every figure is the median run, with the lowest and highest run
in small print. Milliseconds. "Added" is the path's figure less direct's, in the same run.
"CPU per request" is each server process's user + system time over the runs divided by the
requests it served.

Non-streamed:

{table(["path", "p50", "p99", "added p50", "added p99", "CPU per request"], rows, "lrrrrl")}

Streamed (time to first token, and per chunk):

{table(["path", "TTFT p50", "TTFT p99", "added TTFT p50", "per chunk p50", "added per chunk",
        "chunks", "CPU per request"], srows, "lrrrrrrl")}

![Added latency at concurrency 1]({ctx.figure("latency")[1]})
{_breakdown(added, plain_cpu)}
**The same, path by path.** Request by request, every path runs right after the others,
whose processes share its core{_heaviest(plain_cpu)}: each
request of a path finds the core's caches filled by another process, which a proxy on a
core of its own would not. So the paths also took turns in blocks of {block} requests back to
back ({blocks} blocks each, rotating which goes first, the first {skip} of every block left
out: {blocks * (block - skip):,} requests per path). These figures are pooled over the
blocks; the budget verdict above stays on the request-by-request figures, the less
favourable of the two.

{blocks_md}
"""  # fmt: skip
    return Section(TITLE, text, _budgets(added), data, _headlines(added, plain_cpu))


def _heaviest(cpu: dict[str, float]) -> str:
    """The process of the system under test that spends the most CPU per request."""
    if not cpu:
        return ""
    proc = max(cpu, key=lambda p: cpu[p])
    return f" ({proc} spends {cpu[proc] / 1000:,.1f} ms of CPU on each request)"


def _breakdown(added: dict[str, dict[str, Spread]], cpu: dict[str, float]) -> str:
    """Where veritee's added time at concurrency 1 comes from, in numbers of this run."""
    if "gateway" not in added or "enclave" not in added:
        return ""
    whole, alone = added["gateway"]["p50"].median, added["enclave"]["p50"].median
    spent = (cpu["gateway"] + cpu["enclave"]) / 1000
    text = f"""
Of the {whole:+.2f} ms veritee's whole path adds at the median, the enclave alone accounts
for {alone:+.2f} ms and the gateway for the other {whole - alone:+.2f} ms. The two processes
spend {cpu["enclave"]:,.0f} µs (enclave) and {cpu["gateway"]:,.0f} µs (gateway) of CPU per
request, {spent:.2f} ms together: """
    if spent < whole:
        text += (f"the other {whole - spent:.2f} ms are waiting, for the store's commit before "
                 "the answer completes and for the hops between processes (each a loopback "
                 "round trip and a wake-up of a process on a busy core).")  # fmt: skip
    else:
        text += ("more than the time they add, because part of that work happens off the "
                 "request's path (the store's writer thread, the request log, the periodic "
                 "health and keyset checks) while the probe is busy with the other paths; "
                 "the added latency is then mostly CPU time on the request's path.")  # fmt: skip
    if "gateway-pg" in added:
        text += (f" With the receipts stored in PostgreSQL instead of SQLite the whole path adds "
                 f"{added['gateway-pg']['p50'].median:+.2f} ms.")  # fmt: skip
    return text + "\n"


def _headlines(added: dict[str, dict[str, Spread]], cpu: dict[str, float]) -> list[Headline]:
    gw, lite = added.get("gateway"), added.get("litellm")
    if gw is None or lite is None:
        return []

    def pair(
        key: str, scale: float = 1.0, unit: str = " ms", spec: str = "+.2f"
    ) -> tuple[str, str]:
        return (
            f"{gw[key].median * scale:{spec}}{unit}",
            f"{lite[key].median * scale:{spec}}{unit}",
        )

    return [
        Headline("added latency at concurrency 1, p50", *pair("p50")),
        Headline("added latency at concurrency 1, p99", *pair("p99")),
        Headline("added time to first token, p50", *pair("ttft50")),
        Headline("added time per chunk, p50", *pair("chunk50", 1000, " µs", "+,.0f")),
        Headline("CPU per request at concurrency 1 (all processes of the path)",
                 f"{cpu['gateway'] + cpu['enclave']:,.0f} µs", f"{cpu['litellm']:,.0f} µs"),
    ]  # fmt: skip


def _plot(ctx: Context, targets: dict[str, Target], added: dict[str, dict[str, Spread]]) -> None:
    keys = ("p50", "p99", "ttft50")
    groups = ["added p50", "added p99", "added TTFT p50"]
    series = {targets[n].label: [added[n][k].median for k in keys] for n in added}
    errors = {targets[n].label: ([added[n][k].low for k in keys], [added[n][k].high for k in keys])
              for n in added}  # fmt: skip
    path, _ = ctx.figure("latency")
    plots.bars(path, title="What each path adds at concurrency 1 (median run, range of runs)",
               groups=groups, series=series, errors=errors, ylabel="ms (log scale)", log=True)  # fmt: skip


def _miss(value: float, limit: float) -> str:
    return f"{value - limit:.2f} ms ({value / limit:.1f}x the budget)"


def _budgets(added: dict[str, dict[str, Spread]]) -> list[BudgetRow]:
    gw, lite = added.get("gateway"), added.get("litellm")
    if gw is None:
        return []
    p50, p99, ttft = gw["p50"].median, gw["p99"].median, gw["ttft50"].median
    misses = [f"p50 by {_miss(p50, BUDGET_P50_MS)}" if p50 >= BUDGET_P50_MS else "",
              f"p99 by {_miss(p99, BUDGET_P99_MS)}" if p99 >= BUDGET_P99_MS else ""]  # fmt: skip
    litellm = f"{lite['p50'].median:+.2f} / {lite['p99'].median:+.2f} ms" if lite else ""
    rows = [
        BudgetRow(
            "gateway + enclave + signing add < 1 ms at p50, < 3 ms at p99 (c = 1)",
            f"{p50:+.2f} / {p99:+.2f} ms",
            p50 < BUDGET_P50_MS and p99 < BUDGET_P99_MS,
            "; ".join(m for m in misses if m),
            litellm,
        ),
        BudgetRow(
            "streaming adds < 1 ms to the time to first token (p50)",
            f"{ttft:+.2f} ms",
            ttft < BUDGET_TTFT_MS,
            "" if ttft < BUDGET_TTFT_MS else _miss(ttft, BUDGET_TTFT_MS),
            f"{lite['ttft50'].median:+.2f} ms" if lite else "",
        ),
    ]
    return [r for r in rows if not math.isnan(p50)]
