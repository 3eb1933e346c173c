"""Policy and binding judgements on verified claims (platform verification is tested per platform)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

import pytest

from attestation.keyset import Keyset
from transcript import SigningKey
from verifier.appraisal import appraise
from verifier.claims import VerifiedEvidence
from verifier.errors import BindingMismatch, PolicyViolation
from verifier.policy import Policy

KEY = SigningKey.from_secret(hashlib.sha256(b"appraisal").digest())
KEYSET = Keyset(
    signing_public_key=KEY.public_key,
    image_digest="sha256:" + "11" * 32,
    platform="sev-snp",
    not_before_ms=0,
    not_after_ms=2**40,
)
M = "ab" * 48


def claims(**overrides: Any) -> VerifiedEvidence:
    fields: dict[str, Any] = {
        "platform": "sev-snp",
        "report_data": KEYSET.report_data(),
        "measurements": {"measurement": M},
        "debug": False,
        "tcb": {"bootloader": 3, "tee": 0, "snp": 8, "microcode": 115},
        "signer": "VCEK (Milan)",
        "checked_at": datetime(2025, 1, 1, tzinfo=UTC),
        "details": {"vmpl": 0},
    }
    fields.update(overrides)
    return VerifiedEvidence(**fields)


def test_default_policy_passes_and_says_what_it_did_not_check() -> None:
    result = appraise(claims(), Policy(), keyset=KEYSET)
    names = [c.name for c in result.checks]
    assert names == [
        "policy.platform",
        "policy.debug",
        "policy.vmpl",
        "binding.keyset",
        "binding.nonce",
    ]
    assert any("measurements were not pinned" in w for w in result.warnings)
    assert any("no minimum TCB" in w for w in result.warnings)


def test_debug_is_rejected_by_default_and_named() -> None:
    with pytest.raises(PolicyViolation, match="debug") as info:
        appraise(claims(debug=True), Policy())
    assert info.value.check == "policy.debug"
    result = appraise(claims(debug=True), Policy(unsafe_allow_debug=True))
    assert any("debug enclave accepted" in w for w in result.warnings)


def test_measurement_allowlist() -> None:
    policy = Policy.from_toml(f'[sev-snp]\nmeasurements = ["{M}"]')
    appraise(claims(), policy)
    with pytest.raises(PolicyViolation, match="not in the policy's allowlist"):
        appraise(claims(measurements={"measurement": "cd" * 48}), policy)


def test_min_tcb_and_vmpl() -> None:
    policy = Policy.from_toml("[sev-snp]\nmin_tcb = { snp = 9 }\nmax_vmpl = 1")
    with pytest.raises(PolicyViolation, match="snp is 8, below the policy minimum 9"):
        appraise(claims(), policy)
    with pytest.raises(PolicyViolation, match="VMPL 2"):
        appraise(claims(details={"vmpl": 2}, tcb={"snp": 9}), policy)
    appraise(claims(details={"vmpl": 1}, tcb={"snp": 9}), policy)


def test_tdx_status() -> None:
    tdx = claims(
        platform="tdx",
        measurements={"mrtd": M},
        tcb={"status": "OutOfDate", "advisory_ids": ["INTEL-SA-00837"]},
    )
    with pytest.raises(PolicyViolation, match="INTEL-SA-00837"):
        appraise(tdx, Policy())
    ok = claims(
        platform="tdx",
        measurements={"mrtd": M},
        tcb={"status": "SWHardeningNeeded", "advisory_ids": ["INTEL-SA-1"]},
    )
    assert any("SWHardeningNeeded" in w for w in appraise(ok, Policy()).warnings)


def test_platform_allowlist() -> None:
    with pytest.raises(PolicyViolation, match="not among the allowed platforms"):
        appraise(claims(), Policy.from_toml('[policy]\nplatforms = ["tdx"]'))


def test_binding() -> None:
    other = Keyset(
        signing_public_key=SigningKey.generate().public_key,
        image_digest="sha256:" + "11" * 32,
        platform="sev-snp",
        not_before_ms=0,
        not_after_ms=1,
    )
    with pytest.raises(BindingMismatch) as info:
        appraise(claims(), Policy(), keyset=other)
    assert info.value.check == "binding.keyset"
    nonce = bytes(range(32))
    with pytest.raises(BindingMismatch, match="nonce that was asked for"):
        appraise(claims(), Policy(), keyset=KEYSET, nonce=nonce)
    appraise(claims(report_data=KEYSET.report_data(nonce)), Policy(), keyset=KEYSET, nonce=nonce)
    pinned = Policy(expected_report_data=bytes(64))
    with pytest.raises(BindingMismatch, match="policy expects"):
        appraise(claims(), pinned)
