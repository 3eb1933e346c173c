"""Judging verified claims: the operator's policy and the keyset/nonce binding.

``appraise`` runs after a platform verifier has checked signatures and chains. It raises
:class:`PolicyViolation` or :class:`BindingMismatch` naming the exact check, or returns an
:class:`Appraisal` listing what it checked and what it could not (as warnings, which the
CLI prints plainly: "measurements were not pinned" is not the same as "measurements match").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from attestation.keyset import ZERO_NONCE, Keyset
from verifier.claims import Check, VerifiedEvidence
from verifier.errors import BindingMismatch, PolicyViolation
from verifier.policy import Policy


@dataclass(frozen=True)
class Appraisal:
    evidence: VerifiedEvidence
    policy_source: str
    checks: tuple[Check, ...]
    warnings: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "verified": True,
            "evidence": self.evidence.to_dict(),
            "policy": self.policy_source,
            "policy_checks": [c.to_dict() for c in self.checks],
            "warnings": list(self.warnings),
        }


def appraise(
    evidence: VerifiedEvidence,
    policy: Policy,
    *,
    keyset: Keyset | None = None,
    nonce: bytes | None = None,
) -> Appraisal:
    """Apply ``policy`` and the keyset/nonce binding to verified claims, or raise."""
    checks: list[Check] = []
    warnings: list[str] = []
    platform = evidence.platform
    if platform not in policy.platforms:
        raise PolicyViolation(
            "policy.platform",
            f"{platform} is not among the allowed platforms {sorted(policy.platforms)}",
        )
    checks.append(Check("policy.platform", f"{platform} is allowed"))

    if evidence.debug and not policy.unsafe_allow_debug:
        raise PolicyViolation(
            "policy.debug",
            "the enclave allows debugging (its memory can be read by the host); debug enclaves are rejected "
            "unless the policy sets unsafe_allow_debug = true",
        )
    if evidence.debug:
        warnings.append("debug enclave accepted because the policy sets unsafe_allow_debug = true")
    else:
        checks.append(Check("policy.debug", "the enclave does not allow debugging"))

    _check_measurements(evidence, policy, checks, warnings)
    _check_platform_rules(evidence, policy, checks, warnings)
    _check_binding(evidence, policy, keyset=keyset, nonce=nonce, checks=checks, warnings=warnings)
    return Appraisal(evidence, policy.source, tuple(checks), tuple(warnings))


def _check_measurements(
    evidence: VerifiedEvidence, policy: Policy, checks: list[Check], warnings: list[str]
) -> None:
    pinned = policy.measurements.get(evidence.platform, {})
    if not pinned:
        warnings.append(
            f"measurements were not pinned: {policy.source} accepts any {evidence.platform} image "
            "(write a policy with `veritee policy init --from EVIDENCE`)"
        )
        return
    for key, allowed in sorted(pinned.items()):
        value = evidence.measurements.get(key)
        if value is None:
            raise PolicyViolation(
                "policy.measurement", f"the evidence has no {key}, which the policy pins"
            )
        if value.lower() not in allowed:
            raise PolicyViolation(
                "policy.measurement", f"{key} {value} is not in the policy's allowlist"
            )
        checks.append(Check("policy.measurement", f"{key} {value[:16]}… is allowed"))


def _check_platform_rules(
    evidence: VerifiedEvidence, policy: Policy, checks: list[Check], warnings: list[str]
) -> None:
    if evidence.platform == "sev-snp":
        vmpl = evidence.details.get("vmpl")
        if not isinstance(vmpl, int) or vmpl > policy.snp_max_vmpl:
            raise PolicyViolation(
                "policy.vmpl",
                f"the report was requested at VMPL {vmpl}; the policy allows at most {policy.snp_max_vmpl}",
            )
        checks.append(Check("policy.vmpl", f"VMPL {vmpl} <= {policy.snp_max_vmpl}"))
        if not policy.snp_min_tcb:
            warnings.append(
                "no minimum TCB was set: any firmware version signed by AMD is accepted"
            )
        for component, minimum in sorted(policy.snp_min_tcb.items()):
            value = evidence.tcb.get(component)
            if not isinstance(value, int):
                raise PolicyViolation(
                    "policy.min-tcb", f"the evidence has no TCB component {component!r}"
                )
            if value < minimum:
                raise PolicyViolation(
                    "policy.min-tcb",
                    f"TCB {component} is {value}, below the policy minimum {minimum}",
                )
        if policy.snp_min_tcb:
            checks.append(Check("policy.min-tcb", "reported TCB meets the policy minimum"))
    elif evidence.platform == "tdx":
        status = evidence.tcb.get("status")
        if status not in policy.tdx_allowed_tcb_statuses:
            advisories = evidence.tcb.get("advisory_ids") or []
            suffix = f" (advisories: {', '.join(advisories)})" if advisories else ""
            raise PolicyViolation(
                "policy.tcb-status",
                f"TCB status {status} is not allowed (allowed: {sorted(policy.tdx_allowed_tcb_statuses)}){suffix}",
            )
        checks.append(Check("policy.tcb-status", f"TCB status {status} is allowed"))
        if status != "UpToDate":
            warnings.append(
                f"TCB status is {status}, advisories: {evidence.tcb.get('advisory_ids') or []}"
            )


def _check_binding(
    evidence: VerifiedEvidence,
    policy: Policy,
    *,
    keyset: Keyset | None,
    nonce: bytes | None,
    checks: list[Check],
    warnings: list[str],
) -> None:
    data = evidence.report_data
    if policy.expected_report_data is not None:
        if data != policy.expected_report_data:
            raise BindingMismatch(
                "binding.report-data",
                f"REPORT_DATA is {data.hex()}, the policy expects {policy.expected_report_data.hex()}",
            )
        checks.append(Check("binding.report-data", "REPORT_DATA equals the policy's value"))
    if keyset is None:
        if policy.expected_report_data is None:
            warnings.append("report data binding not checked: no keyset was given")
        return
    if data[:32] != keyset.hash():
        raise BindingMismatch(
            "binding.keyset",
            f"REPORT_DATA[0:32] is {data[:32].hex()}, but the keyset hashes to {keyset.hash().hex()}: "
            "the evidence does not attest this keyset",
        )
    checks.append(
        Check(
            "binding.keyset",
            f"REPORT_DATA binds keyset {keyset.hash().hex()[:16]}… (signer {keyset.signing_address})",
        )
    )
    expected_nonce = ZERO_NONCE if nonce is None else nonce
    if data[32:] != expected_nonce:
        what = "the nonce that was asked for" if nonce is not None else "zeros (boot evidence)"
        raise BindingMismatch(
            "binding.nonce", f"REPORT_DATA[32:64] is {data[32:].hex()}, expected {what}"
        )
    checks.append(
        Check(
            "binding.nonce",
            "fresh nonce matches" if nonce is not None else "boot evidence (zero nonce)",
        )
    )
