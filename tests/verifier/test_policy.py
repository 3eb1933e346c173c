"""Policy TOML: strict parsing, named errors, typed result."""

from __future__ import annotations

import pytest

from verifier.errors import BadInput
from verifier.policy import DEFAULT_TCB_STATUSES, Policy

M = "ab" * 48


def test_default_policy_checks_everything_but_measurements() -> None:
    policy = Policy()
    assert not policy.unsafe_allow_debug
    assert policy.snp_max_vmpl == 0
    assert policy.tdx_allowed_tcb_statuses == DEFAULT_TCB_STATUSES
    assert not any(policy.pins_measurements(p) for p in ("sev-snp", "tdx", "nitro", "vtpm"))


def test_full_policy() -> None:
    policy = Policy.from_toml(
        f"""
        [policy]
        platforms = ["sev-snp", "tdx", "nitro", "vtpm"]
        unsafe_allow_debug = true
        expected_report_data = "{"00" * 64}"
        [sev-snp]
        measurements = ["{M}", "0x{M.upper()}"]
        min_tcb = {{ bootloader = 3, snp = 8, microcode = 115 }}
        max_vmpl = 2
        [tdx]
        mrtd = ["{M}"]
        rtmr3 = ["{M}"]
        allowed_tcb_statuses = ["UpToDate"]
        [nitro]
        pcr0 = ["{M}"]
        [vtpm]
        pcrs = {{ 7 = ["{"cd" * 32}"] }}
        """
    )
    assert policy.unsafe_allow_debug
    assert policy.expected_report_data == bytes(64)
    assert policy.measurements["sev-snp"] == {"measurement": frozenset({M})}
    assert policy.snp_min_tcb == {"bootloader": 3, "snp": 8, "microcode": 115}
    assert policy.snp_max_vmpl == 2
    assert set(policy.measurements["tdx"]) == {"mrtd", "rtmr3"}
    assert policy.tdx_allowed_tcb_statuses == {"UpToDate"}
    assert policy.measurements["vtpm"] == {"pcr7": frozenset({"cd" * 32})}


@pytest.mark.parametrize(
    ("toml", "needle"),
    [
        ("[policy]\nunsafe_allow_debug = 1", "unsafe_allow_debug"),
        ("[policy]\nplatforms = []", "platforms"),
        ("[policy]\nplatforms = ['sgx']", "platforms"),
        ("[policy]\nallow_debug = true", "unknown keys"),  # a typo must not weaken the policy
        ("[sev-snp]\nmeasurement = ['x']", "unknown keys"),
        ("[sev-snp]\nmeasurements = ['abcd']", "48 bytes"),
        ("[sev-snp]\nmeasurements = []", "non-empty"),
        ("[sev-snp]\nmin_tcb = { boot = 1 }", "min_tcb"),
        ("[sev-snp]\nmin_tcb = { snp = 300 }", "min_tcb"),
        ("[sev-snp]\nmax_vmpl = 4", "max_vmpl"),
        ("[tdx]\nallowed_tcb_statuses = ['Fine']", "allowed_tcb_statuses"),
        ("[vtpm]\npcrs = { 24 = ['00'] }", "vtpm.pcrs"),
        ("[sgx]\nx = 1", "unknown keys"),
        ("not toml at all = = =", "not valid TOML"),
    ],
)
def test_bad_policies_are_named_errors(toml: str, needle: str) -> None:
    with pytest.raises(BadInput, match=needle):
        Policy.from_toml(toml, source="p.toml")
