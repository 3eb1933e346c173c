"""Per-key request and token limits: the rule, its decision, and the in-memory limiter.

The rule is GCRA (the generic cell rate algorithm), a sliding window without window
edges: a key with ``rpm = L`` may send ``L`` requests at once, then one every ``W / L``
seconds (``W`` = ``ratelimit.window_seconds``, 60 by default). Its whole state is one
number per key and kind, the *theoretical arrival time* (TAT), so a shared limiter needs
one atomic read-modify-write per request (:mod:`gateway.tenants.redis_limits`).

Tokens are only known once the response is complete, so they are charged afterwards
(:meth:`Limiter.charge_tokens`): a request is admitted while the key's token budget is
not exhausted, and its real usage is then taken from the budget, which may go into debt
for a while. So a key can exceed its tpm by at most one request's tokens per window.
Rejected requests are not counted. ``docs/gateway.md`` ("Rate limits") says the same.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from gateway.store.base import ApiKeyRecord


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome of :meth:`Limiter.admit`: allowed or not, and the header values."""

    allowed: bool
    limit_requests: int | None
    remaining_requests: int | None
    reset_requests: float  # seconds until the request budget is full again
    limit_tokens: int | None
    remaining_tokens: int | None
    reset_tokens: float
    retry_after: float  # seconds until a request would be admitted (0 when allowed)

    def headers(self) -> dict[str, str]:
        """OpenAI's ``x-ratelimit-*`` headers (and ``retry-after`` when refused)."""
        out: dict[str, str] = {}
        if self.limit_requests is not None:
            out["x-ratelimit-limit-requests"] = str(self.limit_requests)
            out["x-ratelimit-remaining-requests"] = str(self.remaining_requests)
            out["x-ratelimit-reset-requests"] = duration(self.reset_requests)
        if self.limit_tokens is not None:
            out["x-ratelimit-limit-tokens"] = str(self.limit_tokens)
            out["x-ratelimit-remaining-tokens"] = str(self.remaining_tokens)
            out["x-ratelimit-reset-tokens"] = duration(self.reset_tokens)
        if not self.allowed:
            out["retry-after"] = str(max(1, math.ceil(self.retry_after)))
            out["retry-after-ms"] = str(max(1, math.ceil(self.retry_after * 1000)))
        return out


UNLIMITED = Decision(True, None, None, 0.0, None, None, 0.0, 0.0)


def duration(seconds: float) -> str:
    """OpenAI's reset format: ``1s``, ``6m0s``, ``1h2m3s``; below a second, ``250ms``."""
    if seconds < 1:
        return f"{max(0, math.ceil(seconds * 1000))}ms"
    whole = math.ceil(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes}m{secs}s"
    if minutes:
        return f"{minutes}m{secs}s"
    return f"{secs}s"


class Limiter(Protocol):
    async def admit(self, key: ApiKeyRecord) -> Decision:
        """Count one request against ``key`` if both its budgets allow it."""
        ...

    async def charge_tokens(self, key: ApiKeyRecord, tokens: int) -> None:
        """Take ``tokens`` (a completed request's usage) from the key's token budget."""
        ...

    async def close(self) -> None: ...


def decide(
    *,
    now: float,
    window: float,
    rpm: int | None,
    tpm: int | None,
    request_tat: float,
    token_tat: float,
) -> tuple[Decision, float]:
    """Apply GCRA at ``now``; return the decision and the new request TAT.

    TATs are in the same unit as ``now`` and ``window`` (seconds here, milliseconds in
    the Redis script, which implements the same rule).
    """
    r_tat = max(request_tat, now)
    t_used = max(token_tat, now) - now
    allowed = True
    retry = 0.0
    if rpm is not None:
        interval = window / rpm
        if r_tat + interval - now > window:
            allowed = False
            retry = r_tat + interval - now - window
    if tpm is not None and t_used >= window:
        allowed = False
        retry = max(retry, t_used - window + window / tpm)
    if allowed and rpm is not None:
        r_tat += window / rpm
    decision = describe(
        now=now, window=window, rpm=rpm, tpm=tpm, request_tat=r_tat, token_tat=now + t_used,
        allowed=allowed, retry=retry,
    )  # fmt: skip
    return decision, r_tat


def describe(
    *,
    now: float,
    window: float,
    rpm: int | None,
    tpm: int | None,
    request_tat: float,
    token_tat: float,
    allowed: bool,
    retry: float,
) -> Decision:
    r_used = max(request_tat - now, 0.0)
    t_used = max(token_tat - now, 0.0)
    return Decision(
        allowed=allowed,
        limit_requests=rpm,
        remaining_requests=None
        if rpm is None
        else max(0, math.floor((window - r_used) / (window / rpm) + 1e-9)),
        reset_requests=r_used,
        limit_tokens=tpm,
        remaining_tokens=None
        if tpm is None
        else max(0, math.floor((window - t_used) / (window / tpm) + 1e-9)),
        reset_tokens=t_used,
        retry_after=retry,
    )


class MemoryLimiter:
    """Limits held in this process: right for a single replica (and for tests)."""

    def __init__(self, window_seconds: float, *, clock: Callable[[], float] = time.monotonic):
        self._window = window_seconds
        self._clock = clock
        self._requests: dict[str, float] = {}
        self._tokens: dict[str, float] = {}

    async def admit(self, key: ApiKeyRecord) -> Decision:
        if key.rpm is None and key.tpm is None:
            return UNLIMITED
        now = self._clock()
        decision, tat = decide(
            now=now,
            window=self._window,
            rpm=key.rpm,
            tpm=key.tpm,
            request_tat=self._requests.get(key.key_id, now),
            token_tat=self._tokens.get(key.key_id, now),
        )
        if decision.allowed and key.rpm is not None:
            self._requests[key.key_id] = tat
        return decision

    async def charge_tokens(self, key: ApiKeyRecord, tokens: int) -> None:
        if key.tpm is None or tokens <= 0:
            return
        now = self._clock()
        tat = max(self._tokens.get(key.key_id, now), now)
        self._tokens[key.key_id] = tat + tokens * self._window / key.tpm

    async def close(self) -> None:
        return None
