"""Server-wide settings of the upstream simulator, read once at start."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_SEED = "veritee-upstream-sim"


@dataclass(frozen=True)
class SimSettings:
    """What every request gets unless it asks for something else (``x-sim`` / ``[[sim:...]]``).

    - ``latency_ms``: wait before the first response byte.
    - ``chunks``: content chunks per streamed choice; ``None`` means one chunk per token,
      like the real providers.
    - ``chunk_delay_ms``: wait between two chunks of a stream.
    - ``stall_max_s`` / ``hold_max_s``: upper bounds of the ``stall-*`` faults and of
      ``hold``, so that nothing hangs forever.
    - ``seed``: ids (``chatcmpl-...``, ``msg_...``, request ids) derive from
      ``seed`` and the request counter; see :mod:`veritee.upstream_sim.ids`.
    - ``epoch``: the ``created`` timestamp of every response; ``None`` means the
      second at which the server started.
    - ``max_body_bytes``: larger request bodies get 413.
    - ``api_key``: when set, any other key gets 401 (a missing key always does).
    """

    latency_ms: int = 0
    chunks: int | None = None
    chunk_delay_ms: int = 0
    stall_max_s: float = 60.0
    hold_max_s: float = 60.0
    seed: str = DEFAULT_SEED
    epoch: int | None = None
    max_body_bytes: int = 32 * 1024 * 1024
    api_key: str | None = None

    def __post_init__(self) -> None:
        if self.latency_ms < 0 or self.chunk_delay_ms < 0:
            raise ValueError("latency_ms and chunk_delay_ms must be >= 0")
        if self.chunks is not None and self.chunks < 1:
            raise ValueError("chunks must be >= 1")
        if self.stall_max_s <= 0 or self.hold_max_s <= 0:
            raise ValueError("stall_max_s and hold_max_s must be > 0")
        if self.max_body_bytes < 1:
            raise ValueError("max_body_bytes must be >= 1")
