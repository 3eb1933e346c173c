"""One entry point for every platform: verify evidence, then appraise it.

``verify_evidence`` dispatches to the platform verifier (signatures, chains, collateral;
no policy). ``verify_attestation`` verifies an enclave's attestation document and applies
the policy and the keyset/nonce binding. Platform verifiers are imported on first use, so
verifying SNP evidence never loads the TDX code.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from attestation.document import AttestationDocument
from attestation.evidence import Evidence
from verifier.appraisal import Appraisal, appraise
from verifier.claims import VerifiedEvidence
from verifier.errors import BindingMismatch, CouldNotCheck
from verifier.policy import Policy
from verifier.trust import TrustedRoots

# platform -> (module, function); each function takes (evidence, *, roots, now, ...).
_VERIFIERS: dict[str, tuple[str, str]] = {
    "sev-snp": ("verifier.snp", "verify_snp"),
    "tdx": ("verifier.tdx", "verify_tdx"),
    "nitro": ("verifier.nitro", "verify_nitro"),
    "vtpm": ("verifier.vtpm", "verify_vtpm"),
}
# Platforms whose verifier also takes a ``collateral`` source.
_TAKES_COLLATERAL = frozenset({"tdx", "vtpm"})


def _platform_verifier(platform: str) -> Callable[..., VerifiedEvidence]:
    try:
        module_name, function = _VERIFIERS[platform]
    except KeyError:
        raise CouldNotCheck("platform", f"no verifier for platform {platform!r}") from None
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise CouldNotCheck(
            "platform", f"the {platform} verifier is not available: {exc}"
        ) from None
    verify: Callable[..., VerifiedEvidence] = getattr(module, function)
    return verify


def verify_evidence(
    evidence: Evidence,
    *,
    roots: TrustedRoots,
    now: datetime | None = None,
    collateral: Any = None,
) -> VerifiedEvidence:
    """Check the evidence's signatures and chains (no policy); raise or return its claims.

    ``now`` defaults to the current time, except for Nitro, whose documents are checked at
    their own timestamp (their certificates live a few hours).
    """
    verify = _platform_verifier(evidence.platform)
    kwargs: dict[str, Any] = {"roots": roots}
    if evidence.platform == "nitro":
        kwargs["now"] = now
    else:
        kwargs["now"] = now or datetime.now(UTC)
    if evidence.platform in _TAKES_COLLATERAL:
        kwargs["collateral"] = collateral
    return verify(evidence, **kwargs)


def verify_attestation(
    document: AttestationDocument,
    *,
    roots: TrustedRoots,
    policy: Policy,
    now: datetime | None = None,
    collateral: Any = None,
    nonce: bytes | None = None,
) -> Appraisal:
    """Verify an enclave's attestation document under ``policy``.

    ``nonce`` is the nonce the caller asked for; the document must carry the same one and
    the evidence must bind it. Without a nonce the evidence must be boot evidence.
    """
    if nonce is not None and document.nonce != nonce:
        raise BindingMismatch("binding.nonce", "the attestation document answers another nonce")
    verified = verify_evidence(document.evidence, roots=roots, now=now, collateral=collateral)
    if document.keyset.platform != verified.platform:
        raise BindingMismatch(
            "binding.platform",
            f"the keyset says {document.keyset.platform}, the evidence is {verified.platform}",
        )
    return appraise(verified, policy, keyset=document.keyset, nonce=nonce)
