"""What the anchor's refusal of a checkpoint means for the publisher: wait, or give up.

Gas estimation replays every check of ``submitCheckpoint``, so a refusal costs no gas and
names the contract's error (``docs/spec/anchor-contracts.md``, section 3):

| error | meaning | record |
|---|---|---|
| ``EnclaveNotActive``, signer never registered | not registered *yet* | ``waiting`` |
| ``EnclaveNotActive``, signer or measurement revoked | revoked: final | ``rejected`` |
| ``NotContiguous``, a later ``first_seq`` than expected | an earlier range is not in the store yet | ``waiting`` |
| the same, behind a rejected checkpoint | the chain can never reach it | ``rejected`` |
| ``NotContiguous``, an earlier ``first_seq`` | overlaps what is anchored | ``rejected`` |
| ``PrevMismatch``, ``SignerMismatch``, signature errors, ``RootAlreadyAnchored``, ``EmptyRange``, anything else | forged or conflicting | ``rejected`` |

A ``waiting`` checkpoint is tried again next round (one ``eth_estimateGas``); a
``rejected`` one never is, so a revoked enclave does not make the publisher retry forever.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from gateway.store.base import AnchorState

if TYPE_CHECKING:
    from verifier.anchor import ContractRejected, EnclaveRecord


@dataclass(frozen=True, slots=True)
class Verdict:
    state: AnchorState
    reason: str


def revoked_reason(enclave: EnclaveRecord) -> str | None:
    """Why ``enclave`` can never anchor again, or None while it can (or is unregistered)."""
    if enclave.revoked_at:
        return f"the enclave was revoked in the registry at block {enclave.revoked_at}"
    if enclave.measurement_revoked_at:
        return (
            f"its measurement 0x{enclave.measurement.hex()} was revoked in the registry at "
            f"block {enclave.measurement_revoked_at}"
        )
    return None


def judge(
    refusal: ContractRejected,
    *,
    first_seq: int,
    enclave: EnclaveRecord | None,
    rejected_before: str | None,
) -> Verdict:
    """Turn a refusal into a record state. ``enclave`` is the registry's record of the
    signer (read for ``EnclaveNotActive``); ``rejected_before`` is the error of a rejected
    checkpoint at the seq the anchor expects next, if there is one."""
    said = f"the anchor refused it: {refusal.error_name}"
    if refusal.error_name == "EnclaveNotActive" and enclave is not None:
        revoked = revoked_reason(enclave)
        if revoked is not None:
            return Verdict("rejected", f"{said}: {revoked}")
        return Verdict(
            "waiting",
            f"{said}: the signer is not registered in the EnclaveRegistry yet "
            "(veritee anchor register)",
        )
    if refusal.error_name == "NotContiguous":
        expected = int(str(refusal.error_args.get("expectedFirstSeq", 0)))
        if first_seq > expected:
            if rejected_before is not None:
                return Verdict(
                    "rejected",
                    f"{said}: it cannot follow the rejected checkpoint at seq {expected} "
                    f"({rejected_before})",
                )
            return Verdict(
                "waiting",
                f"{said}: seq {expected}..{first_seq - 1} have no checkpoint in the store yet",
            )
        return Verdict(
            "rejected", f"{said}: it overlaps the anchored chain, which continues at {expected}"
        )
    return Verdict("rejected", f"{said} ({refusal.reason})")
