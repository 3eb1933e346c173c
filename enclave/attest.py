"""Evidence for ``GET /v1/attestation``: cached boot evidence, and fresh evidence per nonce.

Boot evidence binds ``sha256(keyset) ‖ 32 zero bytes`` and is made once, at start.
Fresh evidence binds a caller's 32-byte nonce. Providers may block (a device ioctl, a
configfs write), so they run in a worker thread, one at a time. Generation is
*single-flight* (concurrent requests for the same nonce share one generation) and
*rate-limited* by a token bucket, so callers cannot turn the endpoint into a way to
exhaust the device.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from attestation.evidence import Evidence, EvidenceProvider
from enclave.errors import ApiError
from enclave.identity import Identity


class TokenBucket:
    """``rate`` tokens a second, up to ``burst``; time from an injectable monotonic clock."""

    def __init__(
        self, rate: float, burst: int, *, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self._rate = rate
        self._burst = float(burst)
        self._tokens = float(burst)
        self._monotonic = monotonic
        self._last = monotonic()

    def take(self) -> bool:
        now = self._monotonic()
        self._tokens = min(self._burst, self._tokens + (now - self._last) * self._rate)
        self._last = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False


class AttestationService:
    """Produces evidence binding the identity's keyset (and a nonce, when asked)."""

    def __init__(
        self, provider: EvidenceProvider, identity: Identity, *, bucket: TokenBucket
    ) -> None:
        self._provider = provider
        self._identity = identity
        self._bucket = bucket
        self._device = asyncio.Lock()
        self._inflight: dict[bytes, asyncio.Future[Evidence]] = {}
        self._boot: Evidence | None = None

    @property
    def boot_evidence(self) -> Evidence | None:
        return self._boot

    async def start(self) -> Evidence:
        """Make the boot evidence (no nonce); called once when the app starts."""
        async with self._device:
            self._boot = await asyncio.to_thread(
                self._provider.get_evidence, self._identity.keyset.report_data()
            )
        return self._boot

    async def fresh(self, nonce: bytes) -> Evidence:
        """Evidence binding ``nonce``; raises :class:`ApiError` 429 when rate-limited."""
        pending = self._inflight.get(nonce)
        if pending is not None:
            return await asyncio.shield(pending)
        if not self._bucket.take():
            raise ApiError(
                429,
                "fresh attestation evidence is rate-limited; retry later or omit the nonce",
                type="rate_limit_error",
                code="attestation_rate_limited",
            )
        future: asyncio.Future[Evidence] = asyncio.get_running_loop().create_future()
        self._inflight[nonce] = future
        try:
            async with self._device:
                evidence = await asyncio.to_thread(
                    self._provider.get_evidence, self._identity.keyset.report_data(nonce)
                )
            future.set_result(evidence)
            return evidence
        except asyncio.CancelledError:
            future.cancel()
            raise
        except Exception as exc:
            future.set_exception(exc)
            future.exception()  # mark retrieved: waiters (if any) re-raise it themselves
            raise
        finally:
            del self._inflight[nonce]
