"""The bundle's enclaves: each attestation document verified again, offline.

Each ``enclaves/<address>.json`` holds the attestation document that admitted one signing
key, and when the gateway verified it. It is verified under the policy and the roots the
*verifier* chose (simulated roots only when passed explicitly: a bundle never supplies
trust), at the time the gateway verified it, and its keyset must name the file's key. Only
the keysets of documents that verify are trusted to check receipts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

from attestation.document import AttestationDocument
from attestation.errors import AttestationError
from attestation.keyset import Keyset
from transcript.keys import parse_address
from verifier.audit.layout import ENCLAVE_TYPE
from verifier.audit.report import EnclaveVerdict, Failure
from verifier.errors import BadInput, CouldNotCheck, VerifierError
from verifier.evidence import verify_attestation
from verifier.policy import Policy
from verifier.trust import TrustedRoots

RootsFor = Callable[[str], TrustedRoots]


@dataclass
class EnclaveResults:
    keysets: dict[str, Keyset] = field(default_factory=dict)  # signer -> attested keyset
    verdicts: list[EnclaveVerdict] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    unchecked: list[Failure] = field(default_factory=list)  # could not check (no collateral...)


def parse_enclave_file(name: str, raw: bytes) -> tuple[str, str, int, AttestationDocument]:
    """``(signer, enclave name, verified_at_ms, document)``; BadInput when malformed."""
    try:
        data = orjson.loads(raw)
        if not isinstance(data, dict) or data.get("type") != ENCLAVE_TYPE:
            raise ValueError(f"not a {ENCLAVE_TYPE} object")
        signer = parse_address(data["signer"])
        enclave, verified = data["enclave"], data["verified_at_ms"]
        if not isinstance(enclave, str) or type(verified) is not int or verified < 0:
            raise ValueError("enclave is a string and verified_at_ms a non-negative integer")
        document = AttestationDocument.from_dict(data["document"])
    except (orjson.JSONDecodeError, ValueError, KeyError, TypeError, AttestationError) as exc:
        raise BadInput("bundle.malformed", f"{name}: {exc}") from None
    if name != f"enclaves/{signer}.json" and name.lower() != f"enclaves/{signer.lower()}.json":
        raise BadInput("bundle.malformed", f"{name} describes another key, {signer}")
    return signer, enclave, verified, document


def check_enclaves(
    files: Mapping[str, bytes],
    *,
    policy: Policy,
    roots_for: RootsFor,
    collateral: Any,
    tampered: set[str],
) -> EnclaveResults:
    results = EnclaveResults()
    for name in sorted(n for n in files if n.startswith("enclaves/")):
        try:
            signer, enclave, verified_at, document = parse_enclave_file(name, files[name])
        except BadInput:
            if name in tampered:  # already reported as a changed file
                continue
            raise
        subject = f"enclave {enclave} ({signer})"
        platform = document.evidence.platform
        if document.keyset.signing_address != signer:
            results.failures.append(
                Failure("binding.keyset", subject, "the document's keyset names another key")
            )
            results.verdicts.append(EnclaveVerdict(signer, enclave, platform, False, "bad keyset"))
            continue
        when = datetime.fromtimestamp(verified_at / 1000, UTC)
        try:
            appraisal = verify_attestation(
                document,
                roots=roots_for(platform),
                policy=policy,
                now=when,
                collateral=collateral,
                nonce=document.nonce,
            )
        except (VerifierError, AttestationError) as exc:
            check = getattr(exc, "check", "evidence.malformed")
            reason = getattr(exc, "reason", None) or str(exc)
            where = results.unchecked if isinstance(exc, CouldNotCheck) else results.failures
            where.append(Failure(check, subject, reason))
            results.verdicts.append(EnclaveVerdict(signer, enclave, platform, False, reason))
            continue
        evidence = appraisal.evidence
        registers = ", ".join(f"{k} {v[:16]}…" for k, v in sorted(evidence.measurements.items()))
        detail = (
            f"{platform} evidence signed by {evidence.signer} verifies under {policy.source} "
            f"as of {when.isoformat()}; {registers}"
        )
        results.keysets[signer] = document.keyset
        results.verdicts.append(
            EnclaveVerdict(signer, enclave, platform, True, detail, list(appraisal.warnings))
        )
    return results
