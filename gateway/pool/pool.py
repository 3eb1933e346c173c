"""The enclave pool: who may receive traffic, chosen how, and what happens on failure.

The proxy asks :meth:`Pool.pick` for an admitted member serving a model and reports back
how the attempt went; the pool moves members between states (see
:mod:`gateway.pool.member`). :mod:`gateway.pool.monitor` runs the background side:
admission, periodic re-attestation, health checks and keyset polling.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Collection, Iterable, Sequence
from typing import Any

from gateway.clock import Monotonic
from gateway.obs.logs import event
from gateway.obs.metrics import Metrics
from gateway.pool.admission import AdmissionFailed, Attests
from gateway.pool.balancer import Balancer
from gateway.pool.member import Identity, Member, State
from gateway.settings import AttestationSettings, EnclaveSettings, HealthSettings

log = logging.getLogger("gateway.pool")
MAX_BAN_BACKOFF = 3600.0
#: Told about every identity that verifies (to keep its evidence); must not raise.
OnVerified = Callable[[Member, Identity], Awaitable[None]]


class Pool:
    def __init__(
        self,
        enclaves: Sequence[EnclaveSettings],
        *,
        attester: Attests,
        balancer: Balancer,
        health: HealthSettings,
        attestation: AttestationSettings,
        half_life: float,
        metrics: Metrics,
        monotonic: Monotonic,
        on_verified: OnVerified | None = None,
    ) -> None:
        self.members: dict[str, Member] = {e.name: Member(e.name, e.url) for e in enclaves}
        self._attester = attester
        self._balancer = balancer
        self._health = health
        self._attestation = attestation
        self._half_life = half_life
        self._metrics = metrics
        self._monotonic = monotonic
        self._on_verified = on_verified
        self._attesting: dict[str, asyncio.Task[None]] = {}
        # Keysets whose enclave delivered a receipt that failed: never admitted again.
        self._banned: dict[str, str] = {}

    # -- the request path ----------------------------------------------------------------

    def pick(self, model: str, exclude: Collection[str] = ()) -> Member | None:
        """An admitted member serving ``model``, not in ``exclude``; None if there is none."""
        candidates = [
            m
            for m in self.members.values()
            if m.state is State.ADMITTED and model in m.models and m.name not in exclude
        ]
        if not candidates:
            return None
        return self._balancer.choose(candidates)

    def serves(self, model: str) -> bool:
        return any(m.state is State.ADMITTED and model in m.models for m in self.members.values())

    def models(self) -> list[str]:
        return sorted(
            {
                model
                for m in self.members.values()
                if m.state is State.ADMITTED
                for model in m.models
            }
        )

    def admitted(self) -> list[Member]:
        return [m for m in self.members.values() if m.state is State.ADMITTED]

    def succeeded(self, member: Member, first_byte_seconds: float) -> None:
        member.failures = 0
        member.observe_latency(first_byte_seconds, self._monotonic(), self._half_life)

    def failed(self, member: Member, reason: str) -> None:
        """A request or health check failed; enough in a row open the circuit breaker."""
        member.failures += 1
        if member.state is State.ADMITTED and member.failures >= self._health.failure_threshold:
            self._set(member, State.COOLING_DOWN, f"{member.failures} failures in a row: {reason}")
            member.cooldown_until = self._monotonic() + self._health.cooldown_seconds

    def unreachable(self, member: Member, reason: str) -> None:
        """The enclave refused a connection: out of rotation until it answers and re-verifies."""
        if member.state in (State.ADMITTED, State.COOLING_DOWN):
            self._set(member, State.UNREACHABLE, reason)
            member.next_attestation = self._monotonic()

    def eject(self, member: Member, check: str, reason: str) -> None:
        """A receipt (or an unsigned reply) failed: eject the member and ban its keyset.

        The evidence may still verify, but the key it attests has misbehaved, so only a
        restarted enclave, with a new keyset, can be admitted again (tried with backoff).
        """
        self._metrics.verification_failures.labels("receipt", check).inc()
        if member.identity is not None:
            self._banned[member.identity.keyset_hash] = f"{check}: {reason}"
        member.ejections += 1
        delay = min(self._attestation.retry_seconds * 2 ** (member.ejections - 1), MAX_BAN_BACKOFF)
        member.next_attestation = self._monotonic() + delay
        self._set(member, State.EJECTED, f"{check}: {reason}")

    async def reattest(self, member: Member) -> None:
        """Verify ``member`` again now; concurrent callers share one attestation."""
        task = self._attesting.get(member.name)
        if task is None:
            task = asyncio.create_task(self._attest(member), name=f"attest-{member.name}")
            self._attesting[member.name] = task
            task.add_done_callback(lambda _t: self._attesting.pop(member.name, None))
        await asyncio.shield(task)

    # -- admission (also driven by gateway.pool.monitor) ----------------------------------

    async def _attest(self, member: Member) -> None:
        try:
            identity, models = await self._attester.attest(member.url)
            banned = self._banned.get(identity.keyset_hash)
            if banned is not None:
                raise AdmissionFailed(
                    "receipt.banned-keyset",
                    f"this keyset delivered a receipt that failed verification ({banned}); "
                    "only a restarted enclave with a new keyset can be admitted",
                )
        except AdmissionFailed as exc:
            now = self._monotonic()
            if exc.unreachable:
                member.next_attestation = now + min(
                    self._attestation.retry_seconds, self._health.interval_seconds
                )
                self._set(member, State.UNREACHABLE, exc.reason)
                return
            self._metrics.verification_failures.labels("attestation", exc.check).inc()
            member.ejections += 1
            member.next_attestation = now + self._attestation.retry_seconds
            self._set(member, State.EJECTED, str(exc))
            return
        if self._on_verified is not None:
            await self._on_verified(member, identity)
        if member.identity is not None and member.identity.keyset_hash != identity.keyset_hash:
            member.previous = member.identity
        member.identity = identity
        member.models = models
        member.failures = 0
        member.next_attestation = self._monotonic() + self._attestation.reattest_seconds
        self._set(member, State.ADMITTED, None)

    def _set(self, member: Member, state: State, reason: str | None) -> None:
        changed = member.state is not state
        member.state = state
        if reason is not None or state is State.ADMITTED:
            member.reason = reason
        if changed:
            level = logging.INFO if state is State.ADMITTED else logging.WARNING
            identity = member.identity
            event(
                log,
                f"enclave {state.value}",
                level,
                enclave=member.name,
                state=state.value,
                reason=reason,
                signer=identity.address if identity else None,
            )

    # -- views ---------------------------------------------------------------------------

    def snapshot(self) -> Iterable[dict[str, Any]]:
        states = [s.value for s in State]
        for m in self.members.values():
            yield {
                "name": m.name,
                "state": m.state.value,
                "states": states,
                "outstanding": m.outstanding,
                "ewma": m.ewma,
                "verified_at_ms": m.identity.verified_at_ms if m.identity else None,
            }

    def describe(self) -> list[dict[str, Any]]:
        """``GET /v1/enclaves``: each member's attestation state, identity and health."""
        out = []
        for m in self.members.values():
            out.append(
                {
                    "name": m.name,
                    "url": m.url,
                    "state": m.state.value,
                    "reason": m.reason,
                    "identity": m.identity.to_dict() if m.identity else None,
                    "models": sorted(m.models),
                    "outstanding": m.outstanding,
                    "latency_ewma_ms": None if m.ewma is None else round(m.ewma * 1000, 3),
                    "consecutive_failures": m.failures,
                    "ejections": m.ejections,
                }
            )
        return out
