"""Writing a policy that pins what verified evidence shows (``veritee policy init``)."""

from __future__ import annotations

from verifier.claims import VerifiedEvidence
from verifier.policy import MEASUREMENT_KEYS, SNP_TCB_COMPONENTS


def pinning_policy(evidence: VerifiedEvidence, *, source: str) -> str:
    """TOML for a policy that accepts exactly this evidence's platform and measurements.

    The minimum TCB (SEV-SNP) is the evidence's own. Debug stays forbidden: a policy written
    from a debug enclave will reject that enclave, and says so in a comment.
    """
    lines = [
        f"# veritee policy, pinned from {source}",
        f"# platform {evidence.platform}, signed by {evidence.signer}",
        "",
        "[policy]",
        f'platforms = ["{evidence.platform}"]',
    ]
    if evidence.debug:
        lines.append("# the evidence came from a DEBUG enclave: this policy rejects it.")
    lines.append("unsafe_allow_debug = false")
    lines.append("")
    lines.append(f"[{evidence.platform}]")
    measurements = evidence.measurements
    if evidence.platform == "sev-snp":
        lines.append(f'measurements = ["{measurements["measurement"]}"]')
        tcb = {
            k: v
            for k, v in sorted(evidence.tcb.items())
            if k in SNP_TCB_COMPONENTS and isinstance(v, int)
        }
        lines.append("min_tcb = { " + ", ".join(f"{k} = {v}" for k, v in tcb.items()) + " }")
        vmpl = evidence.details.get("vmpl", 0)
        lines.append(f"max_vmpl = {vmpl if isinstance(vmpl, int) else 0}")
    elif evidence.platform in ("tdx", "nitro"):
        for key in sorted(MEASUREMENT_KEYS[evidence.platform]):
            if key in measurements:
                lines.append(f'{key} = ["{measurements[key]}"]')
        if evidence.platform == "tdx":
            status = evidence.tcb.get("status", "UpToDate")
            lines.append(f'allowed_tcb_statuses = ["{status}"]')
    elif evidence.platform == "vtpm":
        pcrs = sorted((int(k[3:]), v) for k, v in measurements.items() if k.startswith("pcr"))
        lines.append("pcrs = { " + ", ".join(f'{i} = ["{v}"]' for i, v in pcrs) + " }")
    return "\n".join(lines) + "\n"
