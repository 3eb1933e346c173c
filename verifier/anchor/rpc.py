"""Connecting to a chain, and retrying the calls that fail for transient reasons.

``connect(None)`` (or ``"embedded"``) starts web3's in-process ``EthereumTesterProvider``
(eth-tester on py-evm): a real EVM with funded, unlocked accounts and no network, the
default for the demo and the fast tests. Any ``http://`` or ``https://`` URL reaches a real
node (anvil, geth, a provider). Retries are ours, not the provider's, so that every call,
including ``eth_sendRawTransaction``, follows one policy (:class:`RetryPolicy`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import requests
from web3 import EthereumTesterProvider, Web3
from web3.exceptions import ProviderConnectionError, RequestTimedOut, TooManyRequests

from verifier.anchor.errors import ChainUnavailable
from verifier.errors import BadInput

T = TypeVar("T")
EMBEDDED = "embedded"


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How hard to try: attempts per call, exponential backoff, and receipt waiting."""

    attempts: int = 5
    backoff_s: float = 0.1
    max_backoff_s: float = 2.0
    request_timeout_s: float = 10.0
    receipt_timeout_s: float = 120.0
    poll_latency_s: float = 0.05

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("attempts must be at least 1")
        if min(self.backoff_s, self.request_timeout_s, self.poll_latency_s) <= 0:
            raise ValueError("times must be positive")

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (0-based)."""
        return float(min(self.max_backoff_s, self.backoff_s * 2**attempt))


def connect(url: str | None = None, *, policy: RetryPolicy | None = None) -> Web3:
    """A ``Web3`` for ``url``: None or ``"embedded"`` for the in-process chain, else HTTP(S)."""
    if url is None or url == EMBEDDED:
        return Web3(EthereumTesterProvider())
    if not url.startswith(("http://", "https://")):
        raise BadInput("anchor.rpc", f"an RPC URL is http(s)://... or {EMBEDDED!r}, not {url!r}")
    timeout = (policy or RetryPolicy()).request_timeout_s
    provider = Web3.HTTPProvider(
        url, request_kwargs={"timeout": timeout}, exception_retry_configuration=None
    )
    return Web3(provider)


def is_transient(exc: BaseException) -> bool:
    """Whether ``exc`` is a network-level failure worth retrying (never a revert or bad input)."""
    if isinstance(exc, requests.HTTPError):
        status = exc.response.status_code if exc.response is not None else 0
        return status == 429 or status >= 500
    return isinstance(
        exc,
        requests.ConnectionError
        | requests.Timeout
        | ProviderConnectionError
        | RequestTimedOut
        | TooManyRequests
        | ConnectionError
        | TimeoutError,
    )


def retrying(
    what: str,
    call: Callable[[], T],
    policy: RetryPolicy,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Run ``call``, retrying transient failures; raise :class:`ChainUnavailable` when spent."""
    for attempt in range(policy.attempts):
        try:
            return call()
        except Exception as exc:
            if not is_transient(exc):
                raise
            if attempt + 1 == policy.attempts:
                raise ChainUnavailable(
                    "anchor.rpc",
                    f"{what}: {type(exc).__name__}: {exc} ({policy.attempts} attempts)",
                ) from exc
            sleep(policy.delay(attempt))
    raise AssertionError("unreachable")  # pragma: no cover
