"""Canonical JSON (RFC 8785, JCS).

``canonical_json`` is the reference: it always goes through the maintained ``rfc8785``
package. ``canonical_json_fast`` is the hot path for documents whose shape we control
(receipt bodies, keysets): when every key is ASCII, every number is an integer within
the I-JSON safe range and there are no floats, the sorted ``orjson`` serialisation is
byte-identical to JCS (string escaping is the same; ``tests/transcript/test_canonical.py``
checks the equality property-wise). Anything outside that domain falls back to the
reference, so the fast path can never produce different bytes.
"""

from __future__ import annotations

from typing import Any

import orjson
import rfc8785

# I-JSON (RFC 7493) / JCS: integers must be exactly representable as IEEE-754 doubles.
MAX_SAFE_INTEGER = 2**53 - 1


class CanonicalizationError(ValueError):
    """The value cannot be canonicalised (floats outside JCS, lone surrogates, huge ints...)."""


def canonical_json(value: Any) -> bytes:
    """Return the RFC 8785 canonical UTF-8 bytes of ``value``."""
    try:
        return rfc8785.dumps(value)
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as exc:
        raise CanonicalizationError(str(exc)) from exc


def _in_fast_domain(value: Any) -> bool:
    if value is None or value is True or value is False:
        return True
    kind = type(value)
    if kind is str:
        return True
    if kind is int:
        return bool(-MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER)
    if kind is dict:
        for key, item in value.items():
            if type(key) is not str or not key.isascii() or not _in_fast_domain(item):
                return False
        return True
    if kind is list:
        return all(_in_fast_domain(item) for item in value)
    return False


def canonical_json_fast(value: Any) -> bytes:
    """Same bytes as :func:`canonical_json`, faster for integer/string/ASCII-keyed documents."""
    if _in_fast_domain(value):
        try:
            return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
        except orjson.JSONEncodeError as exc:  # lone surrogates and the like
            raise CanonicalizationError(str(exc)) from exc
    return canonical_json(value)
