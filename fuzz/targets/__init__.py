"""The fuzz targets, one module per family; :func:`all_targets` imports them all.

Importing a family imports the veritee code it exercises, so the fuzzing child process
calls :func:`all_targets` inside ``atheris.instrument_imports()``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fuzz.contract import Target

FAMILIES = ("snp", "tdx", "nitro", "tpm", "documents", "verifiers")


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
