"""The fuzz targets, one module per family; :func:`all_targets` imports them all.

Importing a family imports the veritee code it exercises, so the fuzzing child process
calls :func:`all_targets` inside ``atheris.instrument_imports()``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from fuzz.contract import Context, Target

if TYPE_CHECKING:
    from fuzz.material import Material

FAMILIES = ("snp", "tdx", "nitro", "tpm", "documents", "verifiers")


def evidence_parser(
    *,
    name: str,
    summary: str,
    run: Callable[[Context, bytes], object],
    seeds: Callable[[Material], Iterable[bytes]],
    max_len: int,
) -> Target:
    """A parser of binary evidence: MalformedEvidence is its one named error, and the
    campaign gives it twice the base time."""
    from attestation.errors import MalformedEvidence

    return Target(name, summary, (MalformedEvidence,), run, seeds, max_len=max_len, weight=2)


def all_targets() -> dict[str, Target]:
    """Every target by name, in family order."""
    targets: dict[str, Target] = {}
    for family in FAMILIES:
        module = importlib.import_module(f"fuzz.targets.{family}")
        for target in module.TARGETS:
            if target.name in targets:
                raise ValueError(f"two fuzz targets are named {target.name!r}")
            targets[target.name] = target
    return targets
