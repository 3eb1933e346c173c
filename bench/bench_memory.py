"""Memory over a steady run: resident set of the gateway, the enclave and LiteLLM.

veritee's gateway path and LiteLLM are driven at the same time, 64 clients each, upstream
50 ms, for the whole run (``--steady``; 10 minutes in a full run), sharing the system-under-
test core. A sampler reads each process's resident set (``VmRSS``) every few seconds. What
matters is whether it keeps growing: "flat" here means that it grew by less than 2% (and
less than 4 MiB) from the middle of the run to its end, after every bounded cache (the
enclave keeps its last 20,000 receipts in memory) has filled.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from bench import plots
from bench.cpu import rss_mib
from bench.loadgen import Load
from bench.probe import chat_body
from bench.stats import table
from bench.suite import BudgetRow, Context, Headline, Options, Section

TITLE = "Memory over a steady run"
ORDER = 60
SERVERS = True
CLIENTS = 64
FLAT_SHARE, FLAT_MIB = 0.02, 4.0


def budget(options: Options) -> float:
    return options.steady_seconds + (15 if options.quick else 30)


def _sample(
    pids: dict[str, int], every: float, stop: threading.Event, out: list[dict[str, float]]
) -> None:
    started = time.monotonic()
    while not stop.is_set():
        out.append({"t": time.monotonic() - started} | {n: rss_mib(pid) for n, pid in pids.items()})
        stop.wait(every)


def run(ctx: Context) -> Section:
    targets = ctx.stacks().targets
    paths = [n for n in ("gateway", "litellm") if n in targets]
    pids = {proc: pid for n in paths for proc, pid in targets[n].pids.items()}
    seconds = ctx.options.steady_seconds
    every = ctx.pick(10.0, 1.0) if seconds >= 60 else max(0.5, seconds / 20)
    idle = {proc: rss_mib(pid) for proc, pid in pids.items()}
    loads = [Load(targets[n].url, chat_body(stream=False, latency_ms=50), CLIENTS, targets[n].headers)
             for n in paths]  # fmt: skip
    samples: list[dict[str, float]] = []
    stop = threading.Event()
    sampler = threading.Thread(target=_sample, args=(pids, every, stop, samples), daemon=True)
    sampler.start()
    try:
        results = ctx.loadgen().run(loads, duration=seconds, warmup=0.0)
    finally:
        stop.set()
        sampler.join()
    served = {n: r.total for n, r in zip(paths, results, strict=True)}
    rows, data, flat = [], {}, {}
    for proc in pids:
        start, middle, end = (_at(samples, proc, f) for f in (0.1, 0.5, 1.0))
        grew = end - middle
        flat[proc] = grew < FLAT_MIB and grew < FLAT_SHARE * middle
        path = next(n for n in paths if proc in targets[n].pids)
        rows.append([proc, f"{idle[proc]:.1f}", f"{start:.1f}", f"{middle:.1f}", f"{end:.1f}",
                     f"{end - start:+.1f}", f"{grew:+.1f}", "yes" if flat[proc] else "**no**",
                     f"{served[path]:,}"])  # fmt: skip
        data[proc] = {"idle": idle[proc], "start": start, "middle": middle, "end": end}
    _plot(ctx, samples, list(pids))
    text = f"""{__doc__.split(chr(10) * 2, 1)[1].strip()}

{_duration(seconds)}, a sample every {every:g} s. Resident set in MiB: before the load, then
a tenth of the way into the run ("start"), at its middle and at its end; the growth from
start to end and over the second half; and the requests the process's path served.

{table(["process", "idle", "start", "middle", "end", "start->end", "middle->end", "flat",
        "requests"], rows, "lrrrrrrlr")}

![Resident set over the run]({ctx.figure("memory")[1]})
"""  # fmt: skip
    veritee = [p for p in pids if not p.startswith("litellm")]
    litellm = data.get("litellm")
    row = BudgetRow(
        f"memory flat over {_duration(seconds)} at steady load",
        ", ".join(f"{p} {data[p]['start']:.0f} -> {data[p]['end']:.0f} MiB" for p in veritee),
        all(flat[p] for p in veritee),
        "; ".join(
            f"{p} +{data[p]['end'] - data[p]['middle']:.1f} MiB in the second half"
            for p in veritee
            if not flat[p]
        ),
        f"{litellm['start']:.0f} -> {litellm['end']:.0f} MiB" if litellm else "",
    )
    heads = []
    if litellm:
        heads.append(Headline(f"resident set at the end of the {_duration(seconds)} run",
                              " + ".join(f"{data[p]['end']:.0f}" for p in veritee) + " MiB",
                              f"{litellm['end']:.0f} MiB"))  # fmt: skip
    raw = {"samples": samples, "summary": data, "served": served}
    return Section(TITLE, text, [row], raw, heads)


def _duration(seconds: float) -> str:
    return f"{seconds / 60:g} minutes" if seconds >= 120 else f"{seconds:g} s"


def _at(samples: list[dict[str, Any]], proc: str, fraction: float) -> float:
    return float(samples[min(len(samples) - 1, round(fraction * (len(samples) - 1)))][proc])


def _plot(ctx: Context, samples: list[dict[str, float]], procs: list[str]) -> None:
    times = [s["t"] / 60 for s in samples]
    path, _ = ctx.figure("memory")
    plots.lines(path, title="Resident set under steady load", x={p: times for p in procs},
                series={p: [s[p] for s in samples] for p in procs}, xlabel="minutes",
                ylabel="MiB")  # fmt: skip
