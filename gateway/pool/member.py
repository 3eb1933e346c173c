"""One enclave in the pool: what it proved (its :class:`Identity`) and how it is doing.

States::

    pending ──verifies──> admitted ──fails N times──> cooling_down ──healthy again──> admitted
       │                    │  └──connection refused──> unreachable ──back, re-verified──┘
       └──fails to verify───┴──evidence or a receipt fails──> ejected ──re-verified──> admitted

Only ``admitted`` members receive traffic. An ``ejected`` member keeps the reason, and is
tried again (with fresh evidence) every ``attestation.retry_seconds``: an operator who
fixes an enclave does not have to restart the gateway, but nothing is routed to it
until its evidence verifies again.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from transcript.keys import PublicKeyVerifier


class State(StrEnum):
    PENDING = "pending"
    ADMITTED = "admitted"
    COOLING_DOWN = "cooling_down"
    UNREACHABLE = "unreachable"
    EJECTED = "ejected"


@dataclass(frozen=True)
class Identity:
    """What an enclave's verified attestation established."""

    address: str  # the signing key's address: receipts must name it
    verifier: PublicKeyVerifier  # checks receipt signatures by that key
    keyset_hash: str  # hex sha256 of the canonical keyset: receipts must name it
    keyset: bytes  # the canonical keyset bytes, as attested
    platform: str
    measurements: Mapping[str, str]
    image_digest: str
    verified_at_ms: int
    not_after_ms: int
    warnings: tuple[str, ...] = ()
    document: bytes = b""  # the attestation document that verified, exactly as received

    def to_dict(self) -> dict[str, object]:
        return {
            "address": self.address,
            "keyset_sha256": self.keyset_hash,
            "platform": self.platform,
            "measurements": dict(self.measurements),
            "image_digest": self.image_digest,
            "verified_at_ms": self.verified_at_ms,
            "keyset_not_after_ms": self.not_after_ms,
            "warnings": list(self.warnings),
        }


@dataclass
class Member:
    """Mutable state of one enclave; changed only by the pool and its monitor."""

    name: str
    url: str
    state: State = State.PENDING
    identity: Identity | None = None
    previous: Identity | None = None  # the identity before the last re-attestation
    reason: str | None = None  # why it is not admitted (or was last ejected)
    models: frozenset[str] = frozenset()
    outstanding: int = 0
    failures: int = 0  # consecutive failures (requests and health checks)
    cooldown_until: float = 0.0  # monotonic seconds
    ewma: float | None = None  # seconds to first byte, decayed over time
    ewma_at: float = 0.0
    next_attestation: float = 0.0  # monotonic seconds
    last_health_ok: float | None = None
    ejections: int = 0

    @property
    def routable(self) -> bool:
        return self.state is State.ADMITTED

    def identities(self) -> tuple[Identity, ...]:
        """Identities whose receipts are accepted from this member (current, then previous)."""
        return tuple(i for i in (self.identity, self.previous) if i is not None)

    def observe_latency(self, seconds: float, now: float, half_life: float) -> None:
        """Fold a time-to-first-byte sample into the decaying average."""
        if self.ewma is None:
            self.ewma = seconds
        else:
            weight = math.exp(-max(now - self.ewma_at, 0.0) * math.log(2) / half_life)
            self.ewma = self.ewma * weight + seconds * (1.0 - weight)
        self.ewma_at = now
