"""The pool's background side: one watcher per enclave.

Every tick (``min(health.interval_seconds, attestation.keyset_poll_seconds)``) a watcher:

- attests a member that is pending, ejected or unreachable once its retry time comes, and
  re-attests an admitted one every ``attestation.reattest_seconds`` (fresh nonce each time);
- health-checks an admitted member (``GET /readyz``); failures count towards the
  circuit breaker, a refused connection takes it out of rotation at once;
- polls ``GET /v1/keyset`` every ``attestation.keyset_poll_seconds``: a different keyset
  means the enclave restarted with new keys, and it is re-attested before anything else;
- closes the breaker of a cooling-down member once its cool-down is over and it is healthy.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging

from gateway.clock import Monotonic
from gateway.errors import EnclaveUnavailable
from gateway.loops import pause
from gateway.pool.member import Member, State
from gateway.pool.pool import Pool
from gateway.settings import AttestationSettings, HealthSettings
from gateway.transport import Transport, fetch

log = logging.getLogger("gateway.pool")


class Monitor:
    def __init__(
        self,
        pool: Pool,
        transport: Transport,
        *,
        health: HealthSettings,
        attestation: AttestationSettings,
        monotonic: Monotonic,
    ) -> None:
        self._pool = pool
        self._transport = transport
        self._health = health
        self._attestation = attestation
        self._monotonic = monotonic
        self._tick = min(health.interval_seconds, attestation.keyset_poll_seconds)
        self._keyset_polled: dict[str, float] = {}

    async def run(self) -> None:
        """Watch every member until cancelled (first admissions run concurrently)."""
        async with asyncio.TaskGroup() as group:
            for member in self._pool.members.values():
                group.create_task(self._watch(member), name=f"watch-{member.name}")

    async def admit_all(self) -> None:
        """Attest every member once, concurrently (used at start-up, before serving)."""
        await asyncio.gather(*(self._pool.reattest(m) for m in self._pool.members.values()))

    async def _watch(self, member: Member) -> None:
        while True:
            try:
                await self.step(member)
            except Exception:  # a watcher must never die; the next tick tries again
                log.exception("watcher for %s failed", member.name)
            await pause(self._tick)

    async def step(self, member: Member) -> None:
        now = self._monotonic()
        if now >= member.next_attestation:
            await self._pool.reattest(member)
            return
        if member.state is State.COOLING_DOWN and now >= member.cooldown_until:
            if await self._healthy(member):
                member.failures = 0
                await self._pool.reattest(member)  # back in rotation only with fresh evidence
            else:
                member.cooldown_until = now + self._health.cooldown_seconds
            return
        if member.state is not State.ADMITTED:
            return
        if not await self._healthy(member):
            return
        if now - self._keyset_polled.get(member.name, 0.0) >= self._attestation.keyset_poll_seconds:
            self._keyset_polled[member.name] = now
            await self._poll_keyset(member)

    async def _healthy(self, member: Member) -> bool:
        try:
            status, _ = await fetch(
                self._transport, f"{member.url}/readyz", timeout=self._health.timeout_seconds
            )
        except EnclaveUnavailable as exc:
            if exc.refused:
                self._pool.unreachable(member, f"health check: {exc}")
            else:
                self._pool.failed(member, f"health check: {exc}")
            return False
        if status != 200:
            self._pool.failed(member, f"health check answered HTTP {status}")
            return False
        member.last_health_ok = self._monotonic()
        return True

    async def _poll_keyset(self, member: Member) -> None:
        identity = member.identity
        try:
            status, raw = await fetch(
                self._transport, f"{member.url}/v1/keyset", timeout=self._health.timeout_seconds
            )
        except EnclaveUnavailable as exc:
            self._pool.failed(member, f"keyset poll: {exc}")
            return
        if (
            status == 200
            and identity is not None
            and hashlib.sha256(raw).hexdigest() == identity.keyset_hash
        ):
            return
        log.info("enclave %s serves another keyset: re-attesting", member.name)
        await self._pool.reattest(member)
