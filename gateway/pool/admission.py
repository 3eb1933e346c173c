"""Admission by verification: what an enclave must prove before it receives traffic.

For each (re-)attestation the gateway draws a fresh random 32-byte nonce, asks the
enclave for ``GET /v1/attestation?nonce=<hex>``, and verifies the document with
:func:`verifier.evidence.verify_attestation` under the operator's policy and trusted
roots: the evidence's signatures and chain, the policy (platform, measurements, TCB, no
debug), and REPORT_DATA = ``sha256(keyset) ‖ nonce``. It then checks that the keyset the
enclave serves at ``GET /v1/keyset`` is the attested one and is valid now. Only then is
an :class:`Identity` made, holding the attested key that every receipt must verify with.

There is no way around this: no flag admits an enclave whose evidence did not verify.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Protocol

import orjson

from attestation.document import AttestationDocument
from attestation.errors import AttestationError
from gateway.errors import EnclaveUnavailable
from gateway.pool.member import Identity
from gateway.transport import Transport, fetch
from transcript.keys import PublicKeyVerifier
from verifier.errors import VerifierError
from verifier.evidence import verify_attestation
from verifier.policy import Policy
from verifier.trust import TrustedRoots


class AdmissionFailed(Exception):
    """The enclave was not admitted. ``unreachable`` tells "could not ask" from "refused".

    ``check`` names what failed (``policy.measurement``, ``snp.chain``, ``unreachable``...).
    """

    def __init__(self, check: str, reason: str, *, unreachable: bool = False) -> None:
        self.check = check
        self.reason = reason
        self.unreachable = unreachable
        super().__init__(f"{check}: {reason}")


def _error_message(raw: bytes) -> str:
    try:
        data = orjson.loads(raw)
        return str(data["error"]["message"])[:200]
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return raw[:200].decode("utf-8", "replace")


class Attests(Protocol):
    async def attest(self, base_url: str) -> tuple[Identity, frozenset[str]]:
        """Verify the enclave at ``base_url``; its identity and models, or AdmissionFailed."""
        ...


class Attester:
    """Verifies enclaves. ``clock_ms`` is the wall clock the evidence is judged at."""

    def __init__(
        self,
        transport: Transport,
        *,
        roots: TrustedRoots,
        policy: Policy,
        timeout: float,
        clock_ms: Callable[[], int],
        collateral: Any = None,
    ) -> None:
        self._transport = transport
        self._roots = roots
        self._policy = policy
        self._timeout = timeout
        self._clock_ms = clock_ms
        self._collateral = collateral

    async def _get(self, url: str, what: str) -> bytes:
        try:
            status, raw = await fetch(self._transport, url, timeout=self._timeout)
        except EnclaveUnavailable as exc:
            raise AdmissionFailed("unreachable", str(exc), unreachable=True) from None
        if status != 200:
            raise AdmissionFailed(
                f"{what}.status",
                f"{what} answered HTTP {status}: {_error_message(raw)}",
                unreachable=status in (429, 502, 503, 504),
            )
        return raw

    async def attest(self, base_url: str) -> tuple[Identity, frozenset[str]]:
        """Verify the enclave at ``base_url``; return its identity and models, or raise."""
        nonce = secrets.token_bytes(32)
        raw = await self._get(f"{base_url}/v1/attestation?nonce={nonce.hex()}", "attestation")
        try:
            document = AttestationDocument.from_json(raw)
        except AttestationError as exc:
            raise AdmissionFailed("attestation.malformed", str(exc)) from None
        now_ms = self._clock_ms()
        now = datetime.fromtimestamp(now_ms / 1000, UTC)
        try:
            appraisal = await asyncio.to_thread(
                verify_attestation,
                document,
                roots=self._roots,
                policy=self._policy,
                now=now,
                collateral=self._collateral,
                nonce=nonce,
            )
        except VerifierError as exc:
            raise AdmissionFailed(exc.check, exc.reason) from None
        except AttestationError as exc:
            raise AdmissionFailed("attestation.malformed", str(exc)) from None
        except Exception as exc:  # noqa: BLE001 - never admit on a surprise; say what it was
            raise AdmissionFailed("attestation.error", f"{type(exc).__name__}: {exc}") from None
        keyset = document.keyset
        canonical = keyset.canonical()
        served = await self._get(f"{base_url}/v1/keyset", "keyset")
        if served != canonical:
            raise AdmissionFailed(
                "binding.served-keyset", "GET /v1/keyset is not the keyset the evidence attests"
            )
        if not keyset.covers(now_ms):
            raise AdmissionFailed("keyset.validity", "the attested keyset is not valid now")
        models = await self._models(base_url)
        identity = Identity(
            address=keyset.signing_address,
            verifier=PublicKeyVerifier(keyset.signing_public_key),
            keyset_hash=keyset.hash().hex(),
            keyset=canonical,
            platform=appraisal.evidence.platform,
            measurements=dict(appraisal.evidence.measurements),
            image_digest=keyset.image_digest,
            verified_at_ms=now_ms,
            not_after_ms=keyset.not_after_ms,
            warnings=appraisal.warnings,
            document=raw,
        )
        return identity, models

    async def _models(self, base_url: str) -> frozenset[str]:
        raw = await self._get(f"{base_url}/v1/models", "models")
        try:
            data = orjson.loads(raw)["data"]
            return frozenset(str(m["id"]) for m in data)
        except (orjson.JSONDecodeError, KeyError, TypeError):
            raise AdmissionFailed(
                "models.malformed", "GET /v1/models is not a model list"
            ) from None
