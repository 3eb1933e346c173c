"""``python -m fuzz``: run the campaign, list targets, reproduce or minimise a crash.

::

    python -m fuzz run [--seconds 60] [--targets a,b] [--work .fuzz] [--vectors DIR]
    python -m fuzz list
    python -m fuzz reproduce TARGET FILE|DIR... # run the harness on files, no atheris
    python -m fuzz minimize TARGET FILE         # libFuzzer's -minimize_crash
    python -m fuzz coverage [--targets a,b]     # line coverage of the corpora (coverage.py)
    python -m fuzz report [RESULTS.json]        # a saved run as a Markdown table
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import traceback
from pathlib import Path

from fuzz.contract import Context
from fuzz.targets import all_targets

REPO = Path(__file__).resolve().parent.parent


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m fuzz", description=__doc__.split("\n")[0])
    parser.add_argument("--work", type=Path, default=REPO / ".fuzz", help="work directory")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="fuzz every (or the named) target in turn")
    run.add_argument("--seconds", type=int, default=60, help="base seconds per target")
    run.add_argument("--targets", default="", help="comma-separated names (default: all)")
    run.add_argument("--vectors", type=Path, default=None, help="the real test vectors")
    commands.add_parser("list", help="list the targets")
    reproduce = commands.add_parser("reproduce", help="run a target's harness on files")
    reproduce.add_argument("--quiet", action="store_true", help="report crashes only")
    reproduce.add_argument("target")
    reproduce.add_argument("files", nargs="+", type=Path)
    report = commands.add_parser("report", help="a saved run as a Markdown table")
    report.add_argument("results", nargs="*", type=Path, help="default: the latest run")
    coverage = commands.add_parser("coverage", help="line coverage of the seeds and corpora")
    coverage.add_argument("--targets", default="", help="comma-separated names (default: all)")
    minimize = commands.add_parser("minimize", help="minimise a crashing input")
    minimize.add_argument("target")
    minimize.add_argument("file", type=Path)
    minimize.add_argument("--runs", type=int, default=20000)
    return parser


def _selected(names: str) -> list[str]:
    targets = all_targets()
    chosen = [n.strip() for n in names.split(",") if n.strip()] or list(targets)
    unknown = [n for n in chosen if n not in targets]
    if unknown:
        raise SystemExit(f"unknown targets {unknown}; have {', '.join(targets)}")
    return chosen


def _reproduce(target: str, paths: list[Path], work: Path, *, quiet: bool = False) -> int:
    harness = all_targets()[target].harness(Context(work / "state"))
    files = [f for p in paths for f in (sorted(p.iterdir()) if p.is_dir() else [p])]
    failures = 0
    for file in files:
        try:
            harness(file.read_bytes())
        except Exception:  # noqa: BLE001 (a crash is what we are looking for)
            failures += 1
            print(f"{file}: CRASH")
            traceback.print_exc()
        else:
            if not quiet:
                print(f"{file}: ok (returned or raised an allowed error)")
    print(f"{target}: {len(files)} inputs, {failures} crashes")
    return 1 if failures else 0


def _coverage(names: list[str], work: Path) -> int:
    """Replay each target's seeds and corpus under coverage.py; one combined report."""
    out = work / "coverage"
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob(".coverage*"):
        old.unlink()
    coverage = [sys.executable, "-m", "coverage"]
    source = ",".join(str(REPO / p) for p in ("attestation", "transcript", "verifier"))
    for name in names:
        inputs = [d for d in (work / "seeds" / name, work / "corpus" / name) if d.is_dir()]
        if not inputs:
            print(f"{name}: no seeds or corpus yet (run the campaign first)")
            continue
        subprocess.run(
            [*coverage, "run", f"--data-file={out / f'.coverage.{name}'}", f"--source={source}",
             "-m", "fuzz", "--work", str(work), "reproduce", "--quiet", name, *map(str, inputs)],
            check=False,
        )  # fmt: skip
    data = f"--data-file={out / '.coverage'}"
    parts = [str(p) for p in out.glob(".coverage.*")]
    subprocess.run([*coverage, "combine", "--keep", data, *parts], check=True)
    omit = "*/simulated/*,*/providers/*,*/anchor/*,*/__init__.py"
    return subprocess.run([*coverage, "report", data, f"--omit={omit}"], check=False).returncode


def _minimize(target: str, file: Path, work: Path, runs: int) -> int:
    out = file.with_name(file.name + ".min")
    command = [
        sys.executable, "-m", "fuzz.child", target, str(work / "state"),
        "-minimize_crash=1", f"-runs={runs}", f"-exact_artifact_path={out}", str(file),
    ]  # fmt: skip
    subprocess.run(command, check=False)
    print(f"minimised input: {out}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "list":
        for name, target in all_targets().items():
            print(f"{name:22} x{target.weight}  {target.summary}")
        return 0
    if args.command == "reproduce":
        return _reproduce(args.target, args.files, args.work, quiet=args.quiet)
    if args.command == "report":
        import json

        from fuzz.campaign import markdown

        files = args.results or sorted((args.work / "results").glob("*.json"))[-1:]
        rows = [row for f in files for row in json.loads(f.read_text())]
        print(markdown(rows))
        return 0
    if args.command == "coverage":
        return _coverage(_selected(args.targets), args.work)
    if args.command == "minimize":
        return _minimize(args.target, args.file, args.work, args.runs)
    from fuzz.campaign import campaign

    targets = all_targets()
    chosen = [targets[n] for n in _selected(args.targets)]
    results = campaign(chosen, work=args.work, seconds=args.seconds, vectors=args.vectors)
    return 0 if all(r.outcome == "ok" for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
