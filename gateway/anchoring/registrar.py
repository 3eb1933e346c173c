"""Registering admitted enclaves in the ``EnclaveRegistry``, after verifying them again.

The gateway keeps the attestation document that first admitted each signing key
(``AttestationRecord``). The registrar takes each one whose key is not registered yet,
verifies it again itself, offline, under the operator's policy and roots and at the time
the gateway verified it (the store is the gateway's, and the gateway is not trusted), and
only then registers the key with:

- ``measurement``: ``measurement_id(platform, registers)``, the registers being those the
  policy pins for the platform (all the evidence's registers when it pins none), so the
  same image always gets the same id;
- ``evidenceHash``: ``sha256(evidence.to_json())`` of the document's evidence, which audit
  bundles ship, so anyone can match the registration to the evidence.

Registering needs the registry owner's key. A key that is already registered (or revoked)
is left alone: registration is once per key, and revocation is final.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from attestation.document import AttestationDocument
from attestation.errors import AttestationError
from gateway.obs.logs import event
from gateway.store.base import AnchorStore, AttestationRecord
from verifier.anchor import ContractRejected, RegistryClient, measurement_id
from verifier.errors import VerifierError
from verifier.evidence import verify_attestation
from verifier.policy import Policy
from verifier.trust import TrustedRoots

log = logging.getLogger("gateway.anchoring")


@dataclass(frozen=True, slots=True)
class Registration:
    """``state``: ``registered`` (now), ``known`` (registered before), ``revoked``, ``refused``
    (its evidence did not verify again, or the registry said no: ``detail`` says why)."""

    signer: str
    state: str
    detail: str
    tx_hash: str | None = None


def identity_registers(
    policy: Policy, platform: str, measurements: Mapping[str, str]
) -> dict[str, str]:
    """The registers that make up an image's identity: those the policy pins, else all."""
    pinned = policy.measurements.get(platform, {})
    names = sorted(pinned) if pinned else sorted(measurements)
    return {name: measurements[name] for name in names if name in measurements}


class Registrar:
    def __init__(
        self,
        *,
        store: AnchorStore,
        registry: RegistryClient,
        policy: Policy,
        roots: TrustedRoots,
        collateral: Any = None,
    ) -> None:
        self._store = store
        self._registry = registry
        self._policy = policy
        self._roots = roots
        self._collateral = collateral
        self._settled: set[str] = set()  # decided in this process: not asked again

    async def register_all(self) -> list[Registration]:
        """Every stored signer not settled yet in this process, in admission order."""
        return [
            await self.register(record)
            for record in await self._store.attestations()
            if record.signer not in self._settled
        ]

    async def register_new(self) -> list[str]:
        """The publisher's hook: register what is new; the signers registered now."""
        return [r.signer for r in await self.register_all() if r.state == "registered"]

    async def register_signer(self, signer: str) -> bool:
        """Register ``signer`` now if its evidence is stored and verifies; True if it was."""
        if signer in self._settled:
            return False
        record = await self._store.attestation(signer)
        return record is not None and (await self.register(record)).state == "registered"

    async def register(self, record: AttestationRecord) -> Registration:
        outcome = await self._register(record)
        self._settled.add(record.signer)
        level = logging.INFO if outcome.state in ("registered", "known") else logging.WARNING
        event(log, f"enclave {outcome.state}", level, signer=record.signer,
              enclave=record.enclave, detail=outcome.detail, tx=outcome.tx_hash)  # fmt: skip
        return outcome

    async def _register(self, record: AttestationRecord) -> Registration:
        signer = record.signer
        current = await asyncio.to_thread(self._registry.enclave, signer)
        if current.registered:
            state = "known" if current.active else "revoked"
            return Registration(signer, state, f"registered at block {current.registered_at}")
        try:
            document, registers = await asyncio.to_thread(self._verify, record)
        except (VerifierError, AttestationError, ValueError) as exc:
            return Registration(signer, "refused", f"its evidence does not verify again: {exc}")
        measurement = measurement_id(document.evidence.platform, registers)
        evidence_hash = hashlib.sha256(document.evidence.to_json()).digest()
        try:
            sent = await asyncio.to_thread(
                self._registry.register,
                signer,
                measurement=measurement,
                evidence_hash=evidence_hash,
            )
        except ContractRejected as exc:
            return Registration(signer, "refused", f"the registry refused it: {exc.reason}")
        detail = f"measurement id 0x{measurement.hex()}, evidence 0x{evidence_hash.hex()}"
        return Registration(signer, "registered", detail, sent.tx_hash.hex())

    def _verify(self, record: AttestationRecord) -> tuple[AttestationDocument, dict[str, str]]:
        document = AttestationDocument.from_json(record.document)
        if document.keyset.signing_address != record.signer:
            raise ValueError("the document's keyset names another signing key")
        when = datetime.fromtimestamp(record.verified_at_ms / 1000, UTC)
        appraisal = verify_attestation(
            document,
            roots=self._roots,
            policy=self._policy,
            now=when,
            collateral=self._collateral,
            nonce=document.nonce,
        )
        evidence = appraisal.evidence
        return document, identity_registers(self._policy, evidence.platform, evidence.measurements)
