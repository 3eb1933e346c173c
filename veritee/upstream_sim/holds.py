"""``hold=<token>``: streams wait after their first chunk until the token is released.

A released token stays released, so a release that arrives before the held request does
(a race a test cannot always avoid) is not lost; use a fresh token per test. The registry
keeps at most ``capacity`` tokens and forgets the oldest released ones first.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import OrderedDict


class Holds:
    """Tokens and their release events; lives on the server's event loop."""

    def __init__(self, capacity: int = 10_000) -> None:
        self._events: OrderedDict[str, asyncio.Event] = OrderedDict()
        self._waiting: dict[str, int] = {}
        self._capacity = capacity

    def release(self, token: str) -> int:
        """Release ``token``; returns how many requests were waiting on it."""
        self._event(token).set()
        return self._waiting.get(token, 0)

    def waiting(self, token: str) -> int:
        """How many requests are held on ``token`` right now."""
        return self._waiting.get(token, 0)

    async def wait(self, token: str, bound: float) -> bool:
        """Wait until ``token`` is released (True) or ``bound`` seconds pass (False)."""
        event = self._event(token)
        self._waiting[token] = self._waiting.get(token, 0) + 1
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), bound)
            return event.is_set()
        finally:
            self._waiting[token] -= 1
            if not self._waiting[token]:
                del self._waiting[token]

    def _event(self, token: str) -> asyncio.Event:
        event = self._events.get(token)
        if event is None:
            event = self._events[token] = asyncio.Event()
            self._evict()
        return event

    def _evict(self) -> None:
        if len(self._events) <= self._capacity:
            return
        for token, event in list(self._events.items()):
            if event.is_set() and token not in self._waiting:
                del self._events[token]
                if len(self._events) <= self._capacity:
                    return
