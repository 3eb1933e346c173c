"""Is the code at an address the shipped contract? (Immutable values masked out.)

A verifier trusts an anchor address from its own configuration; checking the runtime code
against the committed artifact also proves the contract there enforces exactly the rules
of ``docs/spec/anchor-contracts.md``. Immutables (the anchor's registry address) are filled
in at deployment, so their byte ranges (``immutableReferences``) are compared as zeros.
"""

from __future__ import annotations

from functools import cache

from contracts import load_artifact


@cache
def _expected(name: str) -> tuple[bytes, tuple[tuple[int, int], ...]]:
    artifact = load_artifact(name)
    code = bytes.fromhex(artifact["deployedBytecode"][2:])
    ranges = tuple(
        (int(ref["start"]), int(ref["length"]))
        for refs in artifact["immutableReferences"].values()
        for ref in refs
    )
    return code, ranges


def _mask(code: bytes, ranges: tuple[tuple[int, int], ...]) -> bytes:
    masked = bytearray(code)
    for start, length in ranges:
        masked[start : start + length] = bytes(length)
    return bytes(masked)


def runtime_code_matches(name: str, code: bytes) -> bool:
    """Whether ``code`` (from ``eth_getCode``) is the runtime code of shipped contract ``name``."""
    expected, ranges = _expected(name)
    if len(code) != len(expected):
        return False
    return _mask(code, ranges) == _mask(expected, ranges)
