"""The page, ``docs/benchmarks.md``: written whole from one run, never edited by hand."""

from __future__ import annotations

import re
import shlex
from typing import Any

from bench import litellm_proxy
from bench.cpu import LAYOUT, load_average
from bench.stacks import Stacks
from bench.stats import table
from bench.suite import BudgetRow, Options, Outcome

INTRO = """# Benchmarks

Every figure on this page comes from one run of `make bench` (`python -m bench`), which
rewrote the page whole, plots included (`docs/benchmarks/*.png`). Do not edit it by hand:
change the benchmarks under `bench/` and run it again. Raw results of the run are written to
`bench/results/suite.json` (not committed).
"""

METHOD = """## How it was measured

- **Paths.** *direct*: the client calls the upstream simulator (`veritee upstream-sim`,
  HTTPS with its own CA) itself. *veritee enclave alone*: client -> enclave (HTTP on
  loopback) -> simulator (HTTPS), the exchange signed into the receipt chain. *veritee
  gateway + enclave*: client -> gateway -> enclave -> simulator, the receipt verified and
  stored (SQLite, durable commits: the default; or PostgreSQL) before the answer completes.
  *LiteLLM proxy*: client -> LiteLLM -> simulator (HTTPS, CA trusted through
  `SSL_CERT_FILE`). Clients reach every proxy over plain HTTP on loopback, and every proxy
  reaches the simulator over verified TLS: the same hops for both products.
- **Pinning.** {layout}: the system under test (enclave, gateway, PostgreSQL, LiteLLM) has
  its CPU to itself, and the world (the simulator, the load generator, the latency probe,
  this orchestrator) has the other. So each proxy is measured as if deployed on one dedicated
  core, and the client and the provider, which a real deployment would not host on the
  proxy's machine, cannot steal that core from it; the direct path never crosses the
  system-under-test CPU at all. The price: on the direct path the simulator and the load
  generator share one core, which caps direct throughput at high concurrency (said where it
  matters).
- **Interleaving.** The machine is shared and noisy, so no comparison is made across time:
  at concurrency 1 the paths take turns request by request (rotating which goes first),
  and under load they take turns in short slices (A, B, C, A, B, C, ...). Every ratio and
  every "added" figure is computed within one run, then summarised as the median over
  repeated runs, with the lowest and highest run in small print.
- **Load generator.** `bench/loadgen.py`, in its own process pinned to the world CPU; see
  "Load generator headroom" for why it is never the bottleneck.
"""


def _fmt_load(load: tuple[float, float, float]) -> str:
    return " / ".join(f"{x:.2f}" for x in load)


def machine_section(machine: dict[str, Any], stacks: Stacks | None) -> str:
    packages = dict(machine["packages"])
    if stacks is not None and stacks.litellm is not None:
        packages["litellm"] = stacks.litellm.version
    rows = [
        ["date", machine["date"]],
        ["CPU", f"{machine['cpu']}, {machine['cpus']} CPUs ({machine['usable_cpus']} usable)"],
        ["memory", f"{machine['memory_gib']} GiB"],
        ["OS, kernel", f"{machine['os']}, Linux {machine['kernel']}"],
        ["Python", machine["python"]],
        ["load average (1/5/15 min) at start", _fmt_load(machine["load_at_start"])],
        ["load average at end", _fmt_load(machine["load_at_end"])],
        ["packages", ", ".join(f"{k} {v}" for k, v in packages.items())],
    ]
    return "## Machine\n\n" + table(["", ""], rows, "ll") + "\n"


def summary(outcomes: list[Outcome]) -> str:
    sections = [o.section for o in outcomes if o.section]
    rows: list[BudgetRow] = [row for s in sections for row in s.budgets]
    heads = [h for s in sections for h in s.headlines]
    scripts = [o.family for o in outcomes if o.section and o.family.run is None]
    parts = []
    if rows:
        mark = {True: "yes", False: "**no**", None: "not measured"}
        lines = [[r.budget, r.measured, mark[r.met], r.miss or "", r.litellm or "-"] for r in rows]
        header = ["budget", "veritee", "met", "missed by", "LiteLLM, same figure"]
        parts.append(
            "## Summary: the budgets of DESIGN.md\n\n" + table(header, lines, "lllll") + "\n\n"
            "Where a budget is missed, the section that measures it says where the time goes "
            '(CPU per request of each process; the profiles in "Where the time goes").\n'
        )
    if scripts:
        parts.append(
            "Sections produced by plain scripts carry no verdict in this table: "
            + ", ".join(f'"{f.title}" (`bench/bench_{f.name}.py`)' for f in scripts)
            + ".\n"
        )
    if heads:
        lines = [[h.figure, h.veritee, h.litellm] for h in heads]
        parts.append(
            "### veritee beside LiteLLM\n\nThe same figures, measured in the same run with the "
            "same load generator, for veritee's whole path (gateway + enclave, SQLite store) "
            "and for the LiteLLM proxy:\n\n"
            + table(["figure", "veritee (gateway + enclave)", "LiteLLM proxy"], lines, "lrr")
            + "\n"
        )
    return "\n".join(parts)


def commands_section(options: Options, stacks: Stacks | None, outcomes: list[Outcome]) -> str:
    argv = " ".join(shlex.quote(a) for a in options.argv) or ""
    total = sum(o.seconds for o in outcomes)
    rows = [
        [o.family.title, f"`bench/bench_{o.family.name}.py`" if o.section else "`bench/stacks.py`",
         f"{o.family.budget:.0f} s", f"{o.seconds:.0f} s"]
        for o in outcomes
    ]  # fmt: skip
    parts = [
        "## Commands and runtime\n",
        f"This page: `{('python -m bench ' + argv).strip()}` (`make bench` runs it with the "
        "project's virtualenv; `--quick` is a smoke run of a minute or two; `--only NAME,...` "
        "runs some families; `--steady SECONDS` sets the memory run).\n",
    ]
    if stacks is not None and stacks.litellm is not None:
        parts.append(
            "How LiteLLM was set up: "
            + " ".join((litellm_proxy.__doc__ or "").split("\n\n", 1)[1].split())
            + "\n"
        )
        install = stacks.litellm
        spent = f"{install.seconds:.0f} s in this run" if install.seconds else "already installed"
        parts.append(
            "LiteLLM's virtualenv (`bench/.venv-litellm`, gitignored; "
            f"{spent}):\n\n```\n" + "\n".join(install.commands) + "\n```\n"
        )
        parts.append(
            "LiteLLM was started as `litellm --config litellm.yaml --host 127.0.0.1 --port PORT "
            "--num_workers 1` with the environment "
            + ", ".join(f"`{k}={v}`" for k, v in litellm_proxy.ENVIRONMENT.items())
            + " and `SSL_CERT_FILE=<the simulator's CA>`.\n"
        )
    if stacks is not None:
        parts.append(
            "The servers under test ran as `veritee enclave serve --config enclave.toml` and "
            "`veritee gateway serve --config gateway.toml` (the PostgreSQL gateway differs only "
            "in `store.url`); their configurations, and LiteLLM's:\n"
        )
        for name in sorted(stacks.configs):
            lang = "yaml" if name.endswith(".yaml") else "toml"
            parts.append(f"<details><summary><code>{name}</code></summary>\n\n```{lang}\n"
                         f"{stacks.config_text(name).strip()}\n```\n</details>\n")  # fmt: skip
    parts.append(
        "Time per part (the budget keeps the whole run under 30 minutes on this machine, "
        "LiteLLM's installation included):\n\n"
        + table(["part", "module", "budget", "took"], rows, "llrr")
        + f"\n\nTotal: **{total / 60:.1f} minutes**.\n"
    )
    return "\n".join(parts)


def page(
    machine: dict[str, Any], options: Options, outcomes: list[Outcome], stacks: Stacks | None
) -> str:
    machine = {**machine, "load_at_end": load_average()}
    notes = []
    if options.quick:
        notes.append("> **Smoke run (`--quick`)**: tiny samples; these figures mean nothing.\n")
    if stacks is not None:
        for name, why in stacks.absent.items():
            notes.append(f"> **Not measured: {name}.** {why}.\n")
    parts = [INTRO, *notes, summary(outcomes), machine_section(machine, stacks),
             METHOD.format(layout=LAYOUT.describe())]  # fmt: skip
    parts += [f"## {o.section.title}\n\n{o.section.body.strip()}\n" for o in outcomes if o.section]
    parts.append(commands_section(options, stacks, outcomes))
    return _markdown("\n".join(p for p in parts if p))


def _markdown(text: str) -> str:
    """Docstrings quote code reST-style (````x````); Markdown wants one backtick."""
    return re.sub(r"(?<!`)``(?!`)", "`", text)
