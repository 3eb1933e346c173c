"""``python -m bench``: run every benchmark family and rewrite ``docs/benchmarks.md``.

python -m bench                       # everything (about 25 minutes), then the page
python -m bench --quick               # a smoke run: tiny samples, every code path
python -m bench --only latency,receipts --page /tmp/b.md
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from bench import machine, render
from bench.cpu import LAYOUT, pin
from bench.suite import Options, run_suite


def parse(argv: list[str]) -> Options:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run with tiny samples")
    parser.add_argument("--steady", type=float, help="seconds of the memory run (600; quick 10)")
    parser.add_argument("--only", help="comma-separated families (file names without bench_)")
    parser.add_argument("--no-litellm", action="store_true", help="leave LiteLLM out")
    parser.add_argument("--no-postgres", action="store_true", help="leave PostgreSQL out")
    parser.add_argument("--page", type=Path, default=Options.page, help="the page to write")
    parser.add_argument("--vectors", type=Path, default=Options.vectors, help="real test vectors")
    parser.add_argument("--results", type=Path, default=Options.results, help="raw results folder")
    args = parser.parse_args(argv)
    return Options(
        quick=args.quick,
        steady_seconds=args.steady if args.steady is not None else (10 if args.quick else 600),
        litellm=not args.no_litellm,
        postgres=not args.no_postgres,
        only=frozenset(args.only.split(",")) if args.only else None,
        page=args.page.resolve(),
        vectors=args.vectors,
        results=args.results,
        argv=tuple(argv),
    )


def main(argv: list[str] | None = None) -> int:
    options = parse(sys.argv[1:] if argv is None else argv)
    started = time.monotonic()
    described = machine.describe()
    pin(0, LAYOUT.world)  # this process is part of the world (probe, samplers)

    def progress(message: str) -> None:
        print(f"[bench {time.monotonic() - started:6.0f} s] {message}", file=sys.stderr, flush=True)

    progress(f"load average {described['load_at_start']}; {LAYOUT.describe()}")
    outcomes, ctx = run_suite(options, progress=progress)
    stacks = ctx.started_stacks
    options.page.parent.mkdir(parents=True, exist_ok=True)
    options.page.write_text(render.page(described, options, outcomes, stacks))
    options.results.mkdir(parents=True, exist_ok=True)
    raw = {
        o.family.name: {"seconds": o.seconds, **(o.section.data if o.section else {})}
        for o in outcomes
    }
    (options.results / "suite.json").write_text(
        json.dumps({"machine": described, **raw}, indent=2, default=str)
    )
    progress(f"wrote {options.page} in {(time.monotonic() - started) / 60:.1f} minutes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
