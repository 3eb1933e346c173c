"""Find the exact bytes of a top-level JSON member, without re-serialising anything.

Intel signs the bytes of the ``tcbInfo`` / ``enclaveIdentity`` value exactly as the PCS
serves them. Parsing and dumping again would change whitespace or key order and break
the signature, so we locate the value's span in the original body instead.

It also holds :func:`check_depth`, which every reader of collateral JSON calls before the
``json`` module sees the bytes.
"""

from __future__ import annotations

import json
import re

MAX_DEPTH = 64  # Intel's collateral nests 6 levels deep
_DECODER = json.JSONDecoder()
_WS = " \t\n\r"
# One left-to-right pass: a string (closed, or running to the end of the input) or a bracket.
_TOKEN = re.compile(rb'"(?:[^"\\]|\\.)*+\\?(?:"|\Z)|[\[\]{}]', re.DOTALL)


def check_depth(raw: bytes, limit: int = MAX_DEPTH) -> None:
    """ValueError if ``raw`` nests arrays and objects more than ``limit`` levels deep.

    The ``json`` module's C decoder recurses once per level on the C stack. Under the
    default recursion limit deep input raises RecursionError, but py-evm and py_ecc (the
    anchor's embedded chain) raise the limit to 100,000, and then such input overflows the
    C stack and kills the process. So collateral JSON is measured first, in linear time.
    """
    depth = 0
    for token in _TOKEN.finditer(raw):
        first = token.group()[:1]
        if first in (b"[", b"{"):
            depth += 1
            if depth > limit:
                raise ValueError(f"JSON nested more than {limit} levels deep")
        elif first in (b"]", b"}"):
            depth -= 1


def raw_member(body: bytes, key: str) -> bytes:
    """The raw bytes of ``body``'s top-level member ``key``; ValueError if absent or not JSON."""
    check_depth(body)
    text = body.decode("utf-8")  # UTF-8 round-trips exactly: the slice re-encodes to the same bytes
    pos = _skip(text, 0)
    if text[pos : pos + 1] != "{":
        raise ValueError("not a JSON object")
    pos = _skip(text, pos + 1)
    found: str | None = None
    while text[pos : pos + 1] != "}":
        name, pos = _DECODER.raw_decode(text, pos)
        if not isinstance(name, str):
            raise ValueError("object keys are strings")
        pos = _skip(text, pos)
        if text[pos : pos + 1] != ":":
            raise ValueError(f"expected ':' at {pos}")
        start = _skip(text, pos + 1)
        _, end = _DECODER.raw_decode(text, start)
        if name == key:
            if found is not None:
                raise ValueError(f"duplicate member {key!r}")
            found = text[start:end]
        pos = _skip(text, end)
        if text[pos : pos + 1] == ",":
            pos = _skip(text, pos + 1)
        elif text[pos : pos + 1] != "}":
            raise ValueError(f"expected ',' or '}}' at {pos}")
    if _skip(text, pos + 1) != len(text):
        raise ValueError("trailing data after the JSON object")
    if found is None:
        raise ValueError(f"no member {key!r}")
    return found.encode("utf-8")


def _skip(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in _WS:
        pos += 1
    return pos
