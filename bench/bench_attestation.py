"""Attestation evidence verified per second, per platform, on one core.

Real evidence where public vectors exist (``../shared/testvectors``: AMD SEV-SNP reports with
their VCEK, Intel TDX quotes with their collateral, an AWS Nitro document), simulators
otherwise (the vTPM, for which no public evidence is at hand). Each check is the
whole of ``verifier.evidence.verify_evidence`` (parse, signatures, certificate chains, CRLs
and TCB status where the platform has them) at a time inside the evidence's validity window,
with every certificate and all collateral already at hand (nothing fetched), which is how
the gateway re-verifies an enclave. No policy: that is a few comparisons on top. For TDX the
independent Rust verifier ``dcap-qvl`` runs on the same quotes, for comparison.
"""

from __future__ import annotations

import calendar
import importlib
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from attestation.evidence import Evidence
from bench.stats import Spread, table
from bench.suite import Context, Options, Section
from verifier.collateral import StaticCollateral, TdxCollateral, load_bundle_file
from verifier.errors import VerifierError
from verifier.evidence import verify_evidence
from verifier.trust import TrustedRoots

TITLE = "Attestation: evidence verified per second"
ORDER = 25


def budget(options: Options) -> float:
    return 8 if options.quick else 60


Case = tuple[str, str, str, Callable[[], str]]  # platform, evidence, source, check


def _snp(vectors: Path) -> list[Case]:
    cases: list[Case] = []
    for name, roots, when in (
        ("milan-v2", "amd-milan", datetime(2025, 1, 1, tzinfo=UTC)),
        ("genoa-v5", "amd-genoa", datetime(2025, 9, 1, tzinfo=UTC)),
    ):
        report = (vectors / "snp" / f"{name}.report.bin").read_bytes()
        vcek = (vectors / "snp" / f"{name}.vcek.der").read_bytes()
        ev = Evidence("sev-snp", report, report[0x50:0x90], "vector", certificates={"vcek": vcek})
        trusted = TrustedRoots.shipped(roots)
        cases.append(("SEV-SNP", name, "real", _check(ev, trusted, when)))
    return cases


def _tdx_collateral(vectors: Path, name: str) -> TdxCollateral:
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


def _tdx(vectors: Path) -> list[Case]:
    cases: list[Case] = []
    roots = TrustedRoots.shipped("intel-sgx")
    for name, when in (
        ("dcapqvl-v4", datetime(2025, 7, 1, tzinfo=UTC)),
        ("spr-e4-v4", datetime(2023, 7, 1, tzinfo=UTC)),
    ):
        quote = (vectors / "tdx" / f"{name}.quote.bin").read_bytes()
        collateral = _tdx_collateral(vectors, name)
        ev = Evidence("tdx", quote, quote[568:632], "vector")
        source = StaticCollateral(tdx=[collateral])
        cases.append(("TDX", name, "real", _check(ev, roots, when, source)))
        other = _dcap_qvl(quote, collateral, when)
        if other is not None:
            cases.append(("TDX", name, "real, **dcap-qvl** (Rust)", other))
    return cases


def _dcap_qvl(
    quote: bytes, collateral: TdxCollateral, now: datetime
) -> Callable[[], object] | None:
    try:
        dcap_qvl: Any = importlib.import_module("dcap_qvl")
    except ImportError:
        return None
    parsed = dcap_qvl.QuoteCollateralV3.from_json(json.dumps(collateral.to_bundle_dict()))
    seconds = calendar.timegm(now.utctimetuple())

    def check() -> str:
        try:
            return f"status {dcap_qvl.verify(quote, parsed, seconds).status}"
        except Exception as exc:
            return f"error: {exc}"

    return check


def _nitro(vectors: Path) -> list[Case]:
    raw = (vectors / "nitro" / "evervault-2022.doc.cbor").read_bytes()
    ev = Evidence("nitro", raw, bytes(64), "vector")
    return [
        ("Nitro", "evervault-2022", "real", _check(ev, TrustedRoots.shipped("aws-nitro"), None))
    ]


def _vtpm(workdir: Path) -> list[Case]:
    from attestation.simulated.vtpm_provider import SimulatedVtpmProvider

    now = datetime.now(UTC)
    provider = SimulatedVtpmProvider(workdir, now=now)
    ev = provider.get_evidence(bytes(range(64)))
    roots = TrustedRoots.from_paths([workdir])
    return [("vTPM", "GCP-style ECC AK, certified", "simulated", _check(ev, roots, now))]


def _check(
    evidence: Evidence, roots: TrustedRoots, now: datetime | None, collateral: object = None
) -> Callable[[], str]:
    """The verification, returning its verdict: ``verified``, or the error and its check."""

    def check() -> str:
        try:
            verify_evidence(evidence, roots=roots, now=now, collateral=collateral)
        except VerifierError as exc:
            return f"{type(exc).__name__} (`{exc.check}`)"
        return "verified"

    return check


def _rate(check: Callable[[], str], seconds: float) -> float:
    count, started = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds:
        check()
        count += 1
    return count / elapsed


def run(ctx: Context) -> Section:
    vectors = ctx.options.vectors
    have_vectors = (vectors / "README.md").is_file()
    cases: list[Case] = []
    if have_vectors:
        cases += _snp(vectors) + _tdx(vectors) + _nitro(vectors)
    cases += _vtpm(ctx.workdir / "vtpm")
    seconds, runs = ctx.pick(1.0, 0.1), ctx.pick(5, 1)
    rows, data = [], {}
    for platform, name, source, check in cases:
        verdict = check()  # also warms imports and first-use caches
        spread = Spread.of([_rate(check, seconds) for _ in range(runs)])
        data[f"{platform} {name} {source}"] = spread.to_dict() | {"verdict": verdict}
        rows.append([platform, name, source, spread.fmt(",.0f"), f"{1000 / spread.median:.2f} ms",
                     verdict])  # fmt: skip
    note = "" if have_vectors else (
        f"\n**The real vectors were not found at `{vectors}`**, so only the simulated vTPM was "
        "measured (pass `--vectors`).\n"
    )  # fmt: skip
    header = ["platform", "evidence", "source", "checked per second, one core", "each", "verdict"]
    body = table(header, rows, "lllrrl")
    text = f"""{__doc__.split(chr(10) * 2, 1)[1].strip()}
{note}
{runs} run(s) of {seconds:g} s per row, in this process on the world CPU; the median run, with
the lowest and highest:

{body}

A verdict other than "verified" is the vector's expected one (the SPR quote's TCB level is
not in its TCB info; see `docs/attestation.md`): the whole check still ran to reach it. The
vTPM row includes checking the AK certificate against its CA and the quote's signature
and PCR digest. The SEV-SNP rows check the VCEK -> ASK -> ARK chain (RSA-PSS, 4096 bits)
and the report's ECDSA P-384 signature; the TDX rows the PCK chain, the CRLs, the signed TCB
info and QE identity, the QE report and the quote's ECDSA P-256 signature.
"""
    return Section(TITLE, text, data=data)
