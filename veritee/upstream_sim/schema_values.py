"""A deterministic instance of a JSON Schema: tool arguments and ``json_schema`` content.

Covers what function-calling and structured-output schemas use in practice: ``type``
(also as a list), ``properties``/``required``, ``items``/``minItems``, ``enum``,
``const``, ``anyOf``/``oneOf``/``allOf`` (first usable branch), ``minimum``/``maximum``,
``format: date``/``date-time`` and local ``$ref`` into ``$defs``/``definitions``
(pydantic's output). Strings quote the prompt so tests can tell requests apart.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

_MAX_DEPTH = 8


def example(schema: Any, *, hint: str, salt: int) -> dict[str, Any]:
    """An instance of ``schema``; ``hint`` fills strings, ``salt`` varies numbers.

    The result is always an object, as tool arguments and structured outputs must be: a
    root schema that does not describe one yields ``{}``.
    """
    root = schema if isinstance(schema, Mapping) else {}
    value = _Builder(root, hint or "sim", salt).value(root, 0)
    return value if isinstance(value, dict) else {}


class _Builder:
    def __init__(self, root: Mapping[str, Any], hint: str, salt: int) -> None:
        self._root = root
        self._hint = hint
        self._salt = salt

    def value(self, schema: Any, depth: int) -> Any:
        if not isinstance(schema, Mapping) or depth > _MAX_DEPTH:
            return None
        if "$ref" in schema:
            return self.value(self._resolve(schema["$ref"]), depth + 1)
        if "const" in schema:
            return schema["const"]
        enum = schema.get("enum")
        if isinstance(enum, list) and enum:
            return enum[0]
        for key in ("anyOf", "oneOf", "allOf"):
            branches = schema.get(key)
            if isinstance(branches, list) and branches:
                return self.value(_first_not_null(branches), depth + 1)
        return self._typed(schema, _type_of(schema), depth)

    def _typed(self, schema: Mapping[str, Any], kind: str, depth: int) -> Any:
        if kind == "object":
            props = schema.get("properties")
            if not isinstance(props, Mapping):
                return {}
            return {str(name): self.value(sub, depth + 1) for name, sub in props.items()}
        if kind == "array":
            count = schema.get("minItems", 1)
            count = count if isinstance(count, int) and 0 <= count <= 16 else 1
            return [self.value(schema.get("items", {}), depth + 1) for _ in range(count)]
        if kind == "integer":
            return self._number(schema)
        if kind == "number":
            return self._number(schema) + 0.5
        if kind == "boolean":
            return self._salt % 2 == 0
        if kind == "null":
            return None
        return self._string(schema)

    def _number(self, schema: Mapping[str, Any]) -> int:
        """An integer within the bounds (``exclusive*`` as draft 6+: numbers)."""
        low, high = 0, None
        if _is_number(schema.get("minimum")):
            low = math.ceil(schema["minimum"])
        if _is_number(schema.get("exclusiveMinimum")):
            low = max(low, math.floor(schema["exclusiveMinimum"]) + 1)
        if _is_number(schema.get("maximum")):
            high = math.floor(schema["maximum"])
        if _is_number(schema.get("exclusiveMaximum")):
            bound = math.ceil(schema["exclusiveMaximum"]) - 1
            high = bound if high is None else min(high, bound)
        high = low + 100 if high is None else high
        if high < low:
            return low
        return low + self._salt % (high - low + 1)

    def _string(self, schema: Mapping[str, Any]) -> str:
        fmt = schema.get("format")
        if fmt == "date-time":
            return "2025-01-01T00:00:00Z"
        if fmt == "date":
            return "2025-01-01"
        text = self._hint
        max_len = schema.get("maxLength")
        if isinstance(max_len, int) and max_len >= 0:
            text = text[:max_len]
        return text

    def _resolve(self, ref: Any) -> Any:
        if ref == "#":
            return self._root
        if not isinstance(ref, str) or not ref.startswith("#/"):
            return {}
        node: Any = self._root
        for part in ref[2:].split("/"):
            if not isinstance(node, Mapping) or part not in node:
                return {}
            node = node[part]
        return node


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _type_of(schema: Mapping[str, Any]) -> str:
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if isinstance(kind, str):
        return kind
    return "object" if "properties" in schema else "string"


def _first_not_null(branches: list[Any]) -> Any:
    for branch in branches:
        if not (isinstance(branch, Mapping) and branch.get("type") == "null"):
            return branch
    return branches[0]
