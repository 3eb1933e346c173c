"""Differential test: veritee and Phala's dcap-qvl must reach the same TDX verdicts.

dcap-qvl (Rust, MIT) is an independent implementation of Intel's quote verification;
it is a dev dependency used only here, as an oracle. Both take offline collateral and
an injected time, so the same inputs can be replayed through each.
"""

from __future__ import annotations

import calendar
import copy
import importlib.util
import json
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from attestation.evidence import Evidence
from attestation.simulated.tdx_collateral import bundle_json, default_qe_identity, default_tcb_info
from tests.conftest import need
from tests.helpers.tdx import (
    DCAP_TIME,
    SIM_TIME,
    SPR_TIME,
    dcap_collateral,
    dcap_quote,
    simulator,
    spr_collateral,
    spr_quote,
)
from verifier.collateral import StaticCollateral, TdxCollateral, load_bundle
from verifier.errors import VerifierError
from verifier.tdx import verify_tdx
from verifier.trust import TrustedRoots

SIM = simulator(sgx_components=(3, 1, 2, 2, 4, 1, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0))
SIM_ROOTS = TrustedRoots.from_certificates([SIM.pki.root.cert])
NOW = SIM_TIME + timedelta(hours=1)


@pytest.fixture(scope="module")
def dcap_qvl() -> Any:
    need(importlib.util.find_spec("dcap_qvl") is not None, "dcap-qvl is not installed")
    return importlib.import_module("dcap_qvl")


def _theirs(
    dcap_qvl: Any, quote: bytes, collateral: TdxCollateral, now: datetime, root: bytes | None
) -> str:
    parsed = dcap_qvl.QuoteCollateralV3.from_json(json.dumps(collateral.to_bundle_dict()))
    seconds = calendar.timegm(now.utctimetuple())
    try:
        if root is None:
            return str(dcap_qvl.verify(quote, parsed, seconds).status)
        return str(dcap_qvl.verify_with_root_ca(quote, parsed, root, seconds).status)
    except ValueError:
        return "rejected"


def _ours(quote: bytes, collateral: TdxCollateral, now: datetime, roots: TrustedRoots) -> str:
    evidence = Evidence(platform="tdx", report=quote, report_data=quote[568:632], provider="diff")
    try:
        claims = verify_tdx(
            evidence, roots=roots, now=now, collateral=StaticCollateral(tdx=[collateral])
        )
    except VerifierError:
        return "rejected"
    return str(claims.tcb["status"])


def test_real_vectors_agree(dcap_qvl: Any, testvectors: Path) -> None:
    intel = TrustedRoots.shipped("intel-sgx")
    (dcap,) = dcap_collateral(testvectors).tdx
    cases = [
        (dcap_quote(testvectors), dcap, DCAP_TIME, "UpToDate"),
        (dcap_quote(testvectors), dcap, DCAP_TIME + timedelta(days=30), "rejected"),
        (spr_quote(testvectors), spr_collateral(testvectors), SPR_TIME, "rejected"),
    ]
    for quote, collateral, now, expected in cases:
        assert _ours(quote, collateral, now, intel) == expected
        assert _theirs(dcap_qvl, quote, collateral, now, None) == expected


Change = Callable[[dict[str, Any], dict[str, Any]], None]


def _set(change: Change) -> TdxCollateral:
    """Simulated collateral with ``change`` applied, passed through the bundle format."""
    tcb_info = copy.deepcopy(default_tcb_info(SIM.platform_tcb, SIM_TIME))
    qe_identity = copy.deepcopy(default_qe_identity(SIM.platform_tcb, SIM_TIME))
    change(tcb_info, qe_identity)
    carried = SIM.collateral(SIM_TIME, tcb_info=tcb_info, qe_identity=qe_identity)
    (found,) = load_bundle(bundle_json(carried)).tdx
    return found


def _sgx(**svns: int) -> Change:
    """Set SGX components of the newest level (``c0=2`` is component 1)."""

    def change(t: dict[str, Any], q: dict[str, Any]) -> None:
        for key, svn in svns.items():
            t["tcbLevels"][0]["tcb"]["sgxtcbcomponents"][int(key[1:])]["svn"] = svn

    return change


# The simulated platform's SGX components are 3, 1, 2, 2, 4, 1, 0, 5 (then zeros).
CHANGES: dict[str, tuple[Change, str]] = {
    "unchanged": (lambda t, q: None, "UpToDate"),
    "component 3 above the platform": (_sgx(c2=3), "OutOfDate"),
    # lexicographically [3, 1] >= [2, 2], component by component it is not
    "component 1 below, component 2 above": (_sgx(c0=2, c1=2), "OutOfDate"),
    "platform SWHardeningNeeded": (
        lambda t, q: t["tcbLevels"][0].update(tcbStatus="SWHardeningNeeded"),
        "SWHardeningNeeded",
    ),
    "platform ConfigurationNeeded": (
        lambda t, q: t["tcbLevels"][0].update(tcbStatus="ConfigurationNeeded"),
        "ConfigurationNeeded",
    ),
    "platform Revoked": (lambda t, q: t["tcbLevels"][0].update(tcbStatus="Revoked"), "rejected"),
    "QE OutOfDate": (lambda t, q: q["tcbLevels"][0].update(tcbStatus="OutOfDate"), "OutOfDate"),
    "QE MRSIGNER": (lambda t, q: q.update(mrsigner="00" * 32), "rejected"),
    "QE ISVPRODID": (lambda t, q: q.update(isvprodid=7), "rejected"),
    "module OutOfDate": (
        lambda t, q: t["tdxModuleIdentities"][0]["tcbLevels"][0].update(tcbStatus="OutOfDate"),
        "OutOfDate",
    ),
    "module MRSIGNER": (
        lambda t, q: t["tdxModuleIdentities"][0].update(mrsigner="11" * 48),
        "rejected",
    ),
    "TDX component above": (
        lambda t, q: t["tcbLevels"][0]["tcb"]["tdxtcbcomponents"][2].update(svn=9),
        "OutOfDate",
    ),
    "PCESVN above": (lambda t, q: t["tcbLevels"][0]["tcb"].update(pcesvn=12), "OutOfDate"),
    "other FMSPC": (lambda t, q: t.update(fmspc="00AA00000000"), "rejected"),
}


@pytest.mark.parametrize("name", sorted(CHANGES))
def test_simulated_collateral_variations_agree(dcap_qvl: Any, name: str) -> None:
    change, expected = CHANGES[name]
    collateral = _set(change)
    quote = SIM.quote(bytes(64))
    root = SIM.pki.root.cert.public_bytes(Encoding.DER)
    assert _ours(quote, collateral, NOW, SIM_ROOTS) == expected
    assert _theirs(dcap_qvl, quote, collateral, NOW, root) == expected
