"""The benchmark suite: what a benchmark family is, how families are found, how they run.

A family is a module ``bench/bench_<name>.py``. It is found by its file name alone, so adding
one needs no registration anywhere. To take part in ``python -m bench`` (and in the page) it
defines::

    TITLE = "Receipts"                      # the section's heading
    ORDER = 20                              # sections run and appear in this order
    SERVERS = False                         # True if it uses ctx.stacks()
    def budget(options: Options) -> float:  # seconds it may take in this mode
    def run(ctx: Context) -> Section:       # measure, and return the section

A module without ``run`` is a plain script: in a full run it is run as
``python -m bench.<name>`` and its standard output (Markdown) becomes its section, under the
first line of its docstring; ``--quick`` skips it. Families share the servers under test
(``ctx.stacks()``: started once, as a step of its own with its own budget, before the first
family that declares ``SERVERS``) and one load generator process (``ctx.loadgen()``).
"""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from bench.cpu import LAYOUT
from bench.loadgen import Worker
from bench.stacks import Stacks

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
LEGACY_ORDER = 35  # plain scripts run after the micro-benchmarks, before the servers start
LEGACY_BUDGET = 60.0
SERVERS_BUDGET = (240.0, 60.0)  # LiteLLM's install from scratch (~2 min here), then starting


@dataclass(frozen=True)
class Options:
    quick: bool = False
    steady_seconds: float = 600.0
    litellm: bool = True
    postgres: bool = True
    only: frozenset[str] | None = None
    page: Path = ROOT / "docs" / "benchmarks.md"
    vectors: Path = ROOT.parent / "shared" / "testvectors"
    results: Path = BENCH / "results"  # raw results (gitignored)
    argv: tuple[str, ...] = ()

    @property
    def figures(self) -> Path:
        """Where plots go: next to the page, in a folder named after it."""
        return self.page.with_suffix("")


@dataclass(frozen=True)
class BudgetRow:
    """One performance budget from DESIGN.md, against what this run measured."""

    budget: str
    measured: str
    met: bool | None  # None: not measured in this run
    miss: str = ""  # by how much, when missed
    litellm: str = ""  # the same figure for LiteLLM, where it applies


@dataclass(frozen=True)
class Headline:
    """One figure for the summary, veritee (gateway + enclave) beside LiteLLM."""

    figure: str
    veritee: str
    litellm: str


@dataclass
class Section:
    title: str
    body: str
    budgets: list[BudgetRow] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    headlines: list[Headline] = field(default_factory=list)


@dataclass
class Family:
    name: str
    title: str
    order: int
    budget: float
    run: Callable[[Context], Section] | None  # None: a plain script
    doc: str = ""
    servers: bool = False


class Context:
    """What a family gets: the options, shared servers and load generator, and a data bag."""

    def __init__(self, options: Options, workdir: Path) -> None:
        self.options = options
        self.workdir = workdir
        self.data: dict[str, Any] = {}  # results families share (e.g. the highest rate seen)
        self.servers_failed = ""  # why the servers under test could not start, if they could not
        self._stacks: Stacks | None = None
        self._loadgen: Worker | None = None

    def pick(self, full: Any, quick: Any) -> Any:
        return quick if self.options.quick else full

    def stacks(self) -> Stacks:
        if self._stacks is None:
            stacks = Stacks(
                self.workdir, postgres=self.options.postgres, litellm=self.options.litellm
            )
            self._stacks = stacks
            stacks.start()
        return self._stacks

    @property
    def started_stacks(self) -> Stacks | None:
        return self._stacks

    def loadgen(self) -> Worker:
        if self._loadgen is None:
            self._loadgen = Worker(LAYOUT.world)
        return self._loadgen

    def figure(self, name: str) -> tuple[Path, str]:
        """Where to write plot ``name`` (PNG), and its path relative to the page."""
        folder = self.options.figures
        folder.mkdir(parents=True, exist_ok=True)
        return folder / f"{name}.png", f"{folder.name}/{name}.png"

    def close(self) -> None:
        if self._loadgen is not None:
            self._loadgen.close()
        if self._stacks is not None:
            self._stacks.close()


def discover(options: Options) -> list[Family]:
    """Every ``bench_*`` module, in ``ORDER``; ``--only`` keeps the named ones."""
    import bench

    families = []
    for info in pkgutil.iter_modules(bench.__path__):
        if not info.name.startswith("bench_"):
            continue
        name = info.name.removeprefix("bench_")
        if options.only is not None and name not in options.only:
            continue
        families.append(_family(name, importlib.import_module(f"bench.{info.name}"), options))
    return sorted(families, key=lambda f: (f.order, f.name))


def _family(name: str, module: ModuleType, options: Options) -> Family:
    doc = (module.__doc__ or name).strip()
    run = getattr(module, "run", None)
    if run is None:
        budget = 0.0 if options.quick else LEGACY_BUDGET
        title = " ".join(doc.split("\n\n", 1)[0].split()).rstrip(".")  # the first paragraph
        return Family(name, title, LEGACY_ORDER, budget, None, doc)
    servers = bool(getattr(module, "SERVERS", False))
    return Family(name, module.TITLE, module.ORDER, module.budget(options), run, doc, servers)


@dataclass(frozen=True)
class Outcome:
    family: Family
    section: Section | None  # None for the step that starts the servers
    seconds: float


def run_family(family: Family, ctx: Context) -> Outcome:
    started = time.monotonic()
    try:
        if family.servers and ctx.servers_failed:
            raise RuntimeError(ctx.servers_failed)
        section = family.run(ctx) if family.run is not None else run_script(family, ctx.options)
    except Exception as exc:
        trace = traceback.format_exc(limit=4)
        print(trace, file=sys.stderr)
        section = Section(family.title, f"**This benchmark failed in this run:** `{exc!r}`.\n")
    return Outcome(family, section, time.monotonic() - started)


def run_script(family: Family, options: Options) -> Section:
    """A family that is a plain script: its docstring, the command, and what it printed."""
    command = f"python -m bench.bench_{family.name}"
    intro = family.doc.split("\n\n", 1)[1].strip() if "\n\n" in family.doc else ""
    if options.quick:
        return Section(family.title, f"{intro}\n\nNot run by `--quick`; run `{command}`.\n")
    done = subprocess.run(
        [sys.executable, "-m", f"bench.bench_{family.name}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=family.budget * 2,
        check=False,
    )
    if done.returncode != 0:
        tail = " / ".join(done.stderr.strip().splitlines()[-3:])
        raise RuntimeError(f"`{command}` exited with {done.returncode}: {tail}")
    return Section(family.title, f"{intro}\n\nMeasured by `{command}`:\n\n{done.stdout.strip()}\n")


def _start_servers(ctx: Context, progress: Callable[[str], None]) -> Outcome:
    full, quick = SERVERS_BUDGET
    step = Family("servers", "Starting the servers under test (LiteLLM's install included)",
                  0, ctx.pick(full, quick), None)  # fmt: skip
    progress(f"starting the servers: budget {step.budget:.0f} s")
    started = time.monotonic()
    try:
        ctx.stacks()
    except Exception as exc:  # every family that needs them says so; the others still run
        print(traceback.format_exc(limit=4), file=sys.stderr)
        ctx.servers_failed = f"the servers under test did not start: {exc!r}"
    return Outcome(step, None, time.monotonic() - started)


def run_suite(
    options: Options, *, progress: Callable[[str], None]
) -> tuple[list[Outcome], Context]:
    """Run every family in order; the context (closed) keeps the shared data."""
    families = discover(options)
    with tempfile.TemporaryDirectory(prefix="veritee-bench-") as tmp:
        ctx = Context(options, Path(tmp))
        outcomes: list[Outcome] = []
        try:
            for family in families:
                if family.servers and ctx.started_stacks is None:
                    outcomes.append(_start_servers(ctx, progress))
                progress(f"{family.name}: budget {family.budget:.0f} s")
                outcome = run_family(family, ctx)
                progress(f"{family.name}: done in {outcome.seconds:.1f} s")
                outcomes.append(outcome)
        finally:
            ctx.close()
    return outcomes, ctx
