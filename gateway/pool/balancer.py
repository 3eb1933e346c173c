"""Choosing an enclave for a request among the admitted ones that serve its model.

- ``least-outstanding``: the member with the fewest requests in flight; ties go round
  robin, so an idle pool still spreads its load.
- ``p2c-ewma``: the power of two choices. Pick two members at random and take the one
  with the lower cost ``ewma * (outstanding + 1)``, where ``ewma`` is its decaying
  average time to first byte (half-life ``balancer.ewma_half_life_seconds``). A member
  with no sample yet is costed at the pool's mean, so it is tried without being flooded.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Sequence
from typing import Protocol

from gateway.pool.member import Member


class Balancer(Protocol):
    def choose(self, candidates: Sequence[Member]) -> Member:
        """One of ``candidates`` (never empty)."""
        ...


class LeastOutstanding:
    def __init__(self) -> None:
        self._turn = itertools.count()

    def choose(self, candidates: Sequence[Member]) -> Member:
        if len(candidates) == 1:
            return candidates[0]
        fewest = min(m.outstanding for m in candidates)
        tied = [m for m in candidates if m.outstanding == fewest]
        return tied[next(self._turn) % len(tied)]


class PowerOfTwoEwma:
    def __init__(self, rng: random.Random | None = None) -> None:
        self._rng = rng or random.Random()  # noqa: S311 - load spreading, not security

    def choose(self, candidates: Sequence[Member]) -> Member:
        if len(candidates) == 1:
            return candidates[0]
        a, b = self._rng.sample(list(candidates), 2)
        known = [m.ewma for m in candidates if m.ewma is not None]
        default = sum(known) / len(known) if known else 1.0
        cost_a = (a.ewma if a.ewma is not None else default) * (a.outstanding + 1)
        cost_b = (b.ewma if b.ewma is not None else default) * (b.outstanding + 1)
        return a if cost_a <= cost_b else b


def make_balancer(strategy: str) -> Balancer:
    if strategy == "p2c-ewma":
        return PowerOfTwoEwma()
    return LeastOutstanding()
