"""Compile ``contracts/src`` with the pinned npm ``solc`` (solc-js) into ``contracts/artifacts``.

``make contracts`` runs ``python -m contracts.compile``; ``--check`` compiles without writing
and exits 1 when a committed artifact differs (what the test suite asserts, byte for byte).

The build is deterministic: sources are passed by content under fixed unit names
(``src/<File>.sol``), the settings below are fixed, and each artifact is written as sorted,
indented JSON. Any compiler warning fails the build. solc-js prints a ``>>>`` notice before
its standard-JSON output, so the output is parsed from its first ``{``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from contracts import ARTIFACT_NAMES

PACKAGE = Path(__file__).resolve().parent
SOURCES = PACKAGE / "src"
ARTIFACTS = PACKAGE / "artifacts"
REPO = PACKAGE.parent
SOLCJS = REPO / "node_modules" / ".bin" / "solcjs"
SETTINGS: dict[str, Any] = {
    "evmVersion": "shanghai",
    "optimizer": {"enabled": True, "runs": 1_000_000},
    "viaIR": True,
    "metadata": {"bytecodeHash": "ipfs"},
}
_OUTPUTS = [
    "abi",
    "metadata",
    "evm.bytecode.object",
    "evm.deployedBytecode.object",
    "evm.deployedBytecode.immutableReferences",
]


class CompileError(Exception):
    """solc-js is missing, failed, or reported an error or warning."""


def standard_input() -> dict[str, Any]:
    """The standard-JSON input: every source by content, the fixed settings."""
    sources = {
        f"src/{path.name}": {"content": path.read_text(encoding="utf-8")}
        for path in sorted(SOURCES.glob("*.sol"))
    }
    return {
        "language": "Solidity",
        "sources": sources,
        "settings": {**SETTINGS, "outputSelection": {"*": {"*": _OUTPUTS}}},
    }


def run_solcjs(request: dict[str, Any], solcjs: Path = SOLCJS) -> dict[str, Any]:
    """Run ``solcjs --standard-json`` on ``request`` and return its decoded output."""
    if not solcjs.exists():
        raise CompileError(f"{solcjs} not found: run `npm ci` (make contracts does)")
    proc = subprocess.run(  # noqa: S603 - a fixed local executable, no shell
        [str(solcjs), "--standard-json"],
        input=json.dumps(request).encode(),
        capture_output=True,
        check=False,
        timeout=600,
    )
    out = proc.stdout.decode()
    start = out.find("{")
    if proc.returncode != 0 or start < 0:
        raise CompileError(f"solcjs failed ({proc.returncode}): {proc.stderr.decode()}{out}")
    output: dict[str, Any] = json.loads(out[start:])
    problems = [e["formattedMessage"] for e in output.get("errors", [])]
    if problems:
        raise CompileError("solc reported:\n" + "\n".join(problems))
    return output


def compiler_version(output: dict[str, Any]) -> str:
    """The long compiler version (``0.8.x+commit.…``) recorded in a contract's metadata."""
    for unit in output["contracts"].values():
        for contract in unit.values():
            version: str = json.loads(contract["metadata"])["compiler"]["version"]
            return version
    raise CompileError("solc produced no contracts")


def build_artifacts(output: dict[str, Any]) -> dict[str, str]:
    """Artifact file name -> exact file text, for each of :data:`contracts.ARTIFACT_NAMES`."""
    version = compiler_version(output)
    found = {name: (unit, c) for unit, cs in output["contracts"].items() for name, c in cs.items()}
    texts: dict[str, str] = {}
    for name in ARTIFACT_NAMES:
        if name not in found:
            raise CompileError(f"solc produced no contract {name}")
        unit, contract = found[name]
        evm = contract["evm"]
        artifact = {
            "contractName": name,
            "sourceName": unit,
            "compiler": {"name": "solc", "version": version},
            "settings": SETTINGS,
            "abi": contract["abi"],
            "bytecode": "0x" + evm["bytecode"]["object"],
            "deployedBytecode": "0x" + evm["deployedBytecode"]["object"],
            "immutableReferences": evm["deployedBytecode"]["immutableReferences"],
            "metadata": contract["metadata"],
        }
        texts[f"{name}.json"] = json.dumps(artifact, indent=2, sort_keys=True) + "\n"
    return texts


def compile_all(solcjs: Path = SOLCJS) -> dict[str, str]:
    """Compile the sources; return artifact file name -> file text."""
    return build_artifacts(run_solcjs(standard_input(), solcjs))


def stale_artifacts(texts: dict[str, str], directory: Path = ARTIFACTS) -> list[str]:
    """Names of artifacts whose committed file is missing or differs from ``texts``."""
    stale = []
    for name, text in sorted(texts.items()):
        path = directory / name
        if not path.is_file() or path.read_bytes() != text.encode():
            stale.append(name)
    return stale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m contracts.compile", description=__doc__)
    parser.add_argument(
        "--check", action="store_true", help="compare with the committed artifacts, write nothing"
    )
    args = parser.parse_args(argv)
    try:
        texts = compile_all()
    except CompileError as exc:
        sys.stderr.write(f"{exc}\n")
        return 2
    if args.check:
        stale = stale_artifacts(texts)
        for name in stale:
            sys.stderr.write(f"contracts/artifacts/{name} is out of date: run `make contracts`\n")
        return 1 if stale else 0
    ARTIFACTS.mkdir(exist_ok=True)
    for name, text in texts.items():
        (ARTIFACTS / name).write_text(text, encoding="utf-8")
        sys.stdout.write(f"wrote contracts/artifacts/{name}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
