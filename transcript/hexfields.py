"""Small validators for the hex and integer fields of receipts and checkpoints."""

from __future__ import annotations

import re

MAX_JSON_INT = 2**53 - 1
ZERO_HASH = "0" * 64
_HEX64 = re.compile(r"[0-9a-f]{64}").fullmatch
_HEX = re.compile(r"[0-9a-f]*").fullmatch


def is_hex64(value: object) -> bool:
    """Lowercase hex of exactly 32 bytes."""
    return type(value) is str and _HEX64(value) is not None


def is_lower_hex(value: object, length: int) -> bool:
    """Lowercase hex of exactly ``length`` characters."""
    return type(value) is str and len(value) == length and _HEX(value) is not None


def is_uint(value: object, minimum: int = 0) -> bool:
    """A JSON-safe integer >= minimum (bool excluded)."""
    return type(value) is int and minimum <= value <= MAX_JSON_INT
