"""The two clocks the gateway reads, injectable everywhere they are used."""

from __future__ import annotations

import time
from collections.abc import Callable

WallMs = Callable[[], int]  # milliseconds since the Unix epoch (receipts, evidence)
Monotonic = Callable[[], float]  # seconds, for timeouts, cool-downs and rates


def wall_ms() -> int:
    return time.time_ns() // 1_000_000


monotonic: Monotonic = time.monotonic
