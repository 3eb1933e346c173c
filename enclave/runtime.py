"""The running enclave's parts, built once by :func:`build_enclave` from settings.

``app.state.enclave`` is this object: the internal API a gateway test fixture or the
demo uses to reach the receipt log, the checkpoints and the identity without HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass

from attestation.evidence import EvidenceProvider
from enclave.attest import AttestationService, TokenBucket
from enclave.checkpoints import Checkpointer
from enclave.identity import Clock, Identity, create_identity
from enclave.proxy import Proxy
from enclave.receipts import ReceiptLog
from enclave.routing import Router
from enclave.settings import Settings
from transcript.keys import SigningKey


@dataclass(frozen=True)
class Enclave:
    settings: Settings
    identity: Identity
    log: ReceiptLog
    checkpoints: Checkpointer
    attestation: AttestationService
    router: Router
    proxy: Proxy
    clock: Clock


def build_enclave(
    settings: Settings,
    *,
    provider: EvidenceProvider,
    clock: Clock,
    key: SigningKey | None = None,
) -> Enclave:
    """Generate the identity (a fresh key unless ``key`` is given) and wire the parts."""
    identity = create_identity(
        image_digest=settings.identity.image_digest,
        platform=provider.platform,
        validity_seconds=settings.identity.keyset_validity_seconds,
        now_ms=clock(),
        key=key,
    )
    receipts = settings.receipts
    checkpoints = Checkpointer(
        identity,
        every_receipts=receipts.checkpoint_every_receipts,
        keep=receipts.checkpoints_kept,
        clock=clock,
    )
    log = ReceiptLog(
        identity, capacity=receipts.log_capacity, clock=clock, on_signed=checkpoints.add
    )
    router = Router(settings.upstreams)
    attestation = AttestationService(
        provider,
        identity,
        bucket=TokenBucket(settings.attestation.fresh_per_second, settings.attestation.fresh_burst),
    )
    proxy = Proxy(
        router=router,
        log=log,
        clock=clock,
        max_body_bytes=settings.server.max_body_bytes,
        keyset_not_after_ms=identity.keyset.not_after_ms,
    )
    return Enclave(
        settings=settings,
        identity=identity,
        log=log,
        checkpoints=checkpoints,
        attestation=attestation,
        router=router,
        proxy=proxy,
        clock=clock,
    )
