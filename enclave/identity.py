"""The enclave's identity: a signing key made in memory and the keyset that publishes it.

The secp256k1 key is generated when the app starts and lives only in this process
(:class:`transcript.SigningKey` has no export). The keyset names its public half, the
image digest, the platform and a validity window; its hash goes into REPORT_DATA.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from attestation.evidence import Platform
from attestation.keyset import Keyset
from transcript.keys import SigningKey

Clock = Callable[[], int]
"""Milliseconds since the Unix epoch. Injected wherever the enclave reads the time."""


def wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


@dataclass(frozen=True)
class Identity:
    """The signing key with its keyset; ``keyset_hash`` is ``sha256(canonical keyset)``."""

    key: SigningKey
    keyset: Keyset
    keyset_hash: bytes
    keyset_canonical: bytes

    @property
    def address(self) -> str:
        return self.key.address


def create_identity(
    *,
    image_digest: str,
    platform: Platform,
    validity_seconds: int,
    now_ms: int,
    key: SigningKey | None = None,
) -> Identity:
    """Generate a fresh key (unless one is given, for tests) and its keyset."""
    key = key or SigningKey.generate()
    keyset = Keyset(
        signing_public_key=key.public_key,
        image_digest=image_digest,
        platform=platform,
        not_before_ms=now_ms,
        not_after_ms=now_ms + validity_seconds * 1000,
    )
    return Identity(
        key=key, keyset=keyset, keyset_hash=keyset.hash(), keyset_canonical=keyset.canonical()
    )
