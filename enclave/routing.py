"""Which upstream serves a model: exact names first, then shell-style patterns in order."""

from __future__ import annotations

from fnmatch import fnmatchcase

from enclave.settings import UpstreamSettings

_PATTERN_CHARS = frozenset("*?[")


def is_pattern(name: str) -> bool:
    return any(c in _PATTERN_CHARS for c in name)


class Router:
    def __init__(self, upstreams: tuple[UpstreamSettings, ...]) -> None:
        self._exact: dict[str, UpstreamSettings] = {}
        self._patterns: list[tuple[str, UpstreamSettings]] = []
        for upstream in upstreams:
            for name in upstream.models:
                if is_pattern(name):
                    self._patterns.append((name, upstream))
                else:
                    self._exact.setdefault(name, upstream)

    def route(self, model: str) -> UpstreamSettings | None:
        found = self._exact.get(model)
        if found is not None:
            return found
        for pattern, upstream in self._patterns:
            if fnmatchcase(model, pattern):
                return upstream
        return None

    def listed(self) -> list[tuple[str, str]]:
        """``(model, upstream name)`` for every exact model name (patterns cannot be listed)."""
        return [(name, upstream.name) for name, upstream in self._exact.items()]
