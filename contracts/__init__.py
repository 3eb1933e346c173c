"""The Solidity contracts of veritee and their compiled artifacts.

Sources live in ``contracts/src``; ``python -m contracts.compile`` (``make contracts``)
compiles them with the pinned npm ``solc`` into ``contracts/artifacts/<Name>.json``, which
are committed and shipped as package data. ``docs/spec/anchor-contracts.md`` specifies them.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

#: The contracts that ship an artifact.
ARTIFACT_NAMES: tuple[str, ...] = ("EnclaveRegistry", "TranscriptAnchor")


def load_artifact(name: str) -> dict[str, Any]:
    """The compiled artifact of contract ``name``.

    Keys: ``contractName``, ``sourceName``, ``abi``, ``bytecode`` and ``deployedBytecode``
    (0x-hex), ``immutableReferences``, ``compiler`` (``name``, ``version``), ``settings``
    and ``metadata`` (solc's metadata JSON, as a string). A fresh dict on every call.
    """
    if name not in ARTIFACT_NAMES:
        raise KeyError(f"no artifact {name!r}; there are {', '.join(ARTIFACT_NAMES)}")
    text = resources.files(__name__).joinpath("artifacts", f"{name}.json").read_text("utf-8")
    artifact: dict[str, Any] = json.loads(text)
    return artifact


__all__ = ["ARTIFACT_NAMES", "load_artifact"]
