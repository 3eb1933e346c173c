"""The fuzzing process of one target: ``python -m fuzz.child TARGET STATE [libFuzzer flags]``.

veritee's packages are imported inside ``atheris.instrument_imports()``, so every branch
of their code feeds libFuzzer's coverage; nothing of veritee may be imported before.
"""

from __future__ import annotations

import sys
from pathlib import Path

from fuzz.contract import Context

INSTRUMENTED = ["attestation", "transcript", "verifier"]


def main(argv: list[str]) -> None:
    if len(argv) < 3:
        raise SystemExit("usage: python -m fuzz.child TARGET STATE [libFuzzer flags...]")
    name, state, flags = argv[1], Path(argv[2]), argv[3:]
    import atheris  # the fuzz extra: pip install -e ".[fuzz]"

    with atheris.instrument_imports(include=INSTRUMENTED):
        from fuzz.targets import all_targets

        targets = all_targets()
    if name not in targets:
        raise SystemExit(f"no fuzz target {name!r}; have {', '.join(targets)}")
    # libFuzzer re-runs argv[0] through the shell for -minimize_crash and -fork: make it a
    # command line that restarts this very target.
    program = f"{sys.executable} -m fuzz.child {name} {state}"
    atheris.Setup([program, *flags], targets[name].harness(Context(state)))
    atheris.Fuzz()


if __name__ == "__main__":
    main(sys.argv)
