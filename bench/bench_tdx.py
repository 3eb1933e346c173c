"""Benchmark: verify_tdx against dcap-qvl (when installed) on the shared real TDX vectors.

Run: ``.venv/bin/python -m bench.bench_tdx [--vectors ../shared/testvectors] [-n 300]``.
dcap-qvl is optional (``pip install dcap-qvl``); without it only veritee is measured.
"""

from __future__ import annotations

import argparse
import calendar
import importlib
import json
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from attestation.evidence import Evidence
from verifier.collateral import StaticCollateral, TdxCollateral, load_bundle_file
from verifier.tdx import verify_tdx
from verifier.trust import TrustedRoots

CASES = {
    "dcapqvl-v4": datetime(2025, 7, 1, tzinfo=UTC),
    "spr-e4-v4": datetime(2023, 7, 1, tzinfo=UTC),
}


def _collateral(vectors: Path, name: str) -> TdxCollateral:
    tdx = vectors / "tdx"
    if name == "dcapqvl-v4":
        (found,) = load_bundle_file(tdx / f"{name}.collateral.json").tdx
        return found
    return TdxCollateral.from_pcs_responses(
        tcb_info_response=(tdx / f"{name}.pcs-tcbinfo.json").read_bytes(),
        tcb_info_issuer_chain=(tdx / f"{name}.pcs-tcbinfo-issuer-chain.pem").read_bytes(),
        qe_identity_response=(tdx / f"{name}.pcs-qeidentity.json").read_bytes(),
        qe_identity_issuer_chain=None,
        pck_crl=(tdx / f"{name}.pcs-pckcrl.der").read_bytes(),
        pck_crl_issuer_chain=(tdx / f"{name}.pcs-pckcrl-issuer-chain.pem").read_bytes(),
        root_ca_crl=(tdx / f"{name}.rootcrl.der").read_bytes(),
    )


def _time(run: Callable[[], str], n: int) -> tuple[str, float]:
    outcome = run()
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        run()
        samples.append(time.perf_counter() - start)
    return outcome, statistics.median(samples) * 1000


def _ours(quote: bytes, collateral: TdxCollateral, now: datetime) -> Callable[[], str]:
    roots = TrustedRoots.shipped("intel-sgx")
    evidence = Evidence(platform="tdx", report=quote, report_data=quote[568:632], provider="b")
    source = StaticCollateral(tdx=[collateral])

    def run() -> str:
        try:
            return str(verify_tdx(evidence, roots=roots, now=now, collateral=source).tcb["status"])
        except Exception as exc:
            return f"{type(exc).__name__} ({getattr(exc, 'check', '')})"

    return run


def _dcap_qvl(quote: bytes, collateral: TdxCollateral, now: datetime) -> Callable[[], str] | None:
    try:
        dcap_qvl: Any = importlib.import_module("dcap_qvl")
    except ImportError:
        return None
    parsed = dcap_qvl.QuoteCollateralV3.from_json(json.dumps(collateral.to_bundle_dict()))
    seconds = calendar.timegm(now.utctimetuple())

    def run() -> str:
        try:
            return str(dcap_qvl.verify(quote, parsed, seconds).status)
        except Exception as exc:
            return f"error: {exc}"

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--vectors", type=Path, default=Path("../shared/testvectors"))
    parser.add_argument("-n", type=int, default=300)
    args = parser.parse_args()
    print(f"{'vector':<12} {'verifier':<10} {'median ms':>10}  outcome")
    for name, now in CASES.items():
        quote = (args.vectors / "tdx" / f"{name}.quote.bin").read_bytes()
        collateral = _collateral(args.vectors, name)
        runners = {
            "veritee": _ours(quote, collateral, now),
            "dcap-qvl": _dcap_qvl(quote, collateral, now),
        }
        for label, run in runners.items():
            if run is None:
                print(f"{name:<12} {label:<10} {'-':>10}  not installed")
                continue
            outcome, ms = _time(run, args.n)
            print(f"{name:<12} {label:<10} {ms:>10.3f}  {outcome}")


if __name__ == "__main__":
    main()
