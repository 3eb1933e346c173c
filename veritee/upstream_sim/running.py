"""What every way of running the simulator hands back: its endpoint and its controls."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Self


@dataclass(frozen=True)
class SimEndpoint:
    """Where a running simulator listens, and what a client must trust to reach it."""

    host: str
    port: int
    tls: bool
    ca_path: Path | None = None
    spki_sha256: str | None = None

    @property
    def base_url(self) -> str:
        """``http(s)://host:port`` (the Anthropic SDK's ``base_url``)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'https' if self.tls else 'http'}://{host}:{self.port}"

    @property
    def openai_base_url(self) -> str:
        """``base_url + "/v1"`` (the OpenAI SDK's ``base_url``)."""
        return self.base_url + "/v1"


class RunningSim(ABC):
    """A started simulator (in a thread or a child process); a context manager that stops it."""

    endpoint: SimEndpoint

    @property
    def base_url(self) -> str:
        return self.endpoint.base_url

    @property
    def openai_base_url(self) -> str:
        return self.endpoint.openai_base_url

    @abstractmethod
    def release(self, token: str) -> int:
        """Release ``hold=<token>`` (``POST /_sim/release/<token>``); returns how many waited."""

    @abstractmethod
    def waiting(self, token: str) -> int:
        """How many requests are held on ``token`` now (``GET /_sim/hold/<token>``)."""

    @abstractmethod
    def requests(self) -> list[dict[str, Any]]:
        """The journal of the last requests, oldest first (``GET /_sim/requests``)."""

    @abstractmethod
    def stop(self, timeout: float = 10.0) -> None:
        """Stop serving; ends stalls and holds. Idempotent."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
