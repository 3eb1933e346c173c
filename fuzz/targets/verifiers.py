"""The platform verifiers on hostile evidence, with real roots and the simulators' roots.

Each input is a multi-part input (:func:`fuzz.contract.split_parts`): the report, its
REPORT_DATA, and the certificates, collateral and extra blobs the evidence carries. Only the
verifier's named errors keep the contract: :class:`~verifier.errors.VerifierError` (failed,
could not check, bad input) and :class:`~attestation.errors.MalformedEvidence`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from attestation.errors import MalformedEvidence
from attestation.evidence import Evidence, Platform
from fuzz.contract import SNP_NOW, TDX_NOW, VTPM_NOW, Context, Target, evidence_parts, split_parts
from verifier.errors import VerifierError
from verifier.nitro import verify_nitro
from verifier.snp import verify_snp
from verifier.tdx import verify_tdx
from verifier.trust import SHIPPED, TrustedRoots
from verifier.vtpm import verify_vtpm

if TYPE_CHECKING:
    from fuzz.material import Material

ALLOWED = (VerifierError, MalformedEvidence)
Pick = Callable[["Material"], list[Evidence]]


def evidence_from(platform: Platform, data: bytes) -> Evidence:
    """The evidence a multi-part input describes (MalformedEvidence if it cannot be)."""
    report, named, report_data = split_parts(data)
    return Evidence(
        platform=platform,
        report=report,
        report_data=report_data or b"",
        provider="fuzz",
        certificates=named["certificates"],
        collateral=named["collateral"],
        extra=named["extra"],
    )


def _local(*directories: Path) -> TrustedRoots:
    present = [d for d in directories if d.is_dir()]
    return TrustedRoots.from_paths(present) if present else TrustedRoots()


@functools.cache
def roots(context: Context, platform: str) -> TrustedRoots:
    """The shipped vendor roots of ``platform`` plus the simulators' roots in the state."""
    state = context.state
    if platform == "sev-snp":
        shipped = TrustedRoots.shipped(*(n for n in SHIPPED if n.startswith("amd-")))
        return shipped + _local(state / "snp")
    if platform == "tdx":
        return TrustedRoots.shipped("intel-sgx") + _local(state / "tdx" / "roots")
    if platform == "nitro":
        return TrustedRoots.shipped("aws-nitro") + _local(state / "nitro" / "roots")
    return _local(state / "vtpm", state / "snp", state / "tdx" / "roots")


def snp(context: Context, data: bytes) -> None:
    evidence = evidence_from("sev-snp", data)
    verify_snp(evidence, roots=roots(context, "sev-snp"), now=SNP_NOW)


def tdx(context: Context, data: bytes) -> None:
    evidence = evidence_from("tdx", data)
    verify_tdx(evidence, roots=roots(context, "tdx"), now=TDX_NOW, collateral=None)


def nitro(context: Context, data: bytes) -> None:
    evidence = evidence_from("nitro", data)
    verify_nitro(evidence, roots=roots(context, "nitro"))


def vtpm(context: Context, data: bytes) -> None:
    evidence = evidence_from("vtpm", data)
    verify_vtpm(evidence, roots=roots(context, "vtpm"), now=VTPM_NOW)


def _verifier(
    name: str, summary: str, run: Callable[[Context, bytes], None], pick: Pick, max_len: int
) -> Target:
    def seeds(material: Material) -> Iterable[bytes]:
        for e in pick(material):
            yield evidence_parts(e.report, e.report_data, e.certificates, e.collateral, e.extra)

    return Target(name, summary, ALLOWED, run, seeds, max_len=max_len, weight=2)


TARGETS = (
    _verifier(
        "verify_snp",
        "verify_snp on hostile reports and certificates (AMD roots, simulated ARK)",
        snp,
        lambda m: m.snp_evidence,
        8192,
    ),
    _verifier(
        "verify_tdx",
        "verify_tdx on hostile quotes and carried collateral (Intel root, simulated root)",
        tdx,
        lambda m: m.tdx_evidence,
        65536,
    ),
    _verifier(
        "verify_nitro",
        "verify_nitro on hostile documents (AWS root, simulated root)",
        nitro,
        lambda m: m.nitro_evidence,
        20000,
    ),
    _verifier(
        "verify_vtpm",
        "verify_vtpm on hostile quotes, keys, PCRs, AK certificates and HCL reports "
        "(simulated AK CA, SNP and TDX roots)",
        vtpm,
        lambda m: m.vtpm_evidence,
        65536,
    ),
)
