"""vTPM: TPMS_ATTEST, TPMT_SIGNATURE, TPMT_PUBLIC, PCR values, the Azure HCL report."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from attestation.errors import MalformedEvidence
from attestation.formats.hcl import HardwareReportType, HclReport
from attestation.formats.snp import SnpReport
from attestation.formats.tdx import TdReport
from attestation.formats.tpm import HASHES, PcrValues, QuoteAttest, TpmPublic, TpmSignature
from attestation.formats.tpm.keys import public_key
from fuzz.contract import Context, ContractViolation
from fuzz.targets import evidence_parser

if TYPE_CHECKING:
    from collections.abc import Callable

    from fuzz.material import Material


def _round_trip(parsed: object, data: bytes, what: str) -> None:
    to_bytes: Callable[[], bytes] = parsed.to_bytes  # type: ignore[attr-defined]
    if to_bytes() != data:
        raise ContractViolation(f"a parsed {what} does not re-serialise to its bytes")


def attest(_context: Context, data: bytes) -> None:
    _round_trip(QuoteAttest.from_bytes(data), data, "TPMS_ATTEST")


def signature(_context: Context, data: bytes) -> None:
    parsed = TpmSignature.from_bytes(data)
    _round_trip(parsed, data, "TPMT_SIGNATURE")
    _ = parsed.hash, parsed.is_ecdsa


def public(_context: Context, data: bytes) -> None:
    parsed = TpmPublic.from_bytes(data)
    # The AK's TPM name is hashed over the re-serialised structure.
    _round_trip(parsed, data, "TPMT_PUBLIC")
    _ = parsed.is_attestation_key
    with contextlib.suppress(MalformedEvidence):
        parsed.name()
    public_key(parsed)


def pcrs(_context: Context, data: bytes) -> None:
    values = PcrValues.from_bytes(data)
    _round_trip(values, data, "PCR values")
    values.items()
    for hash_alg in HASHES.values():
        values.digest(hash_alg)


def hcl(_context: Context, data: bytes) -> None:
    report = HclReport.from_bytes(data)
    _ = report.platform, report.hardware_report_data, report.hash_name
    report.runtime_data_digest()
    with contextlib.suppress(MalformedEvidence):
        if report.report_type == HardwareReportType.SNP:
            SnpReport.from_bytes(report.hardware_report)
        else:
            TdReport.from_bytes(report.hardware_report)
    with contextlib.suppress(MalformedEvidence):
        report.runtime_claims()
    report.ak_jwk().public_key()


def _blobs(name: str) -> Callable[[Material], list[bytes]]:
    return lambda material: material.tpm_blobs(name)


TARGETS = (
    evidence_parser(
        name="tpm_attest",
        summary="QuoteAttest.from_bytes (TPMS_ATTEST of a quote); re-serialises exactly",
        run=attest,
        seeds=_blobs("report"),
        max_len=1024,
    ),
    evidence_parser(
        name="tpm_signature",
        summary="TpmSignature.from_bytes (TPMT_SIGNATURE: ECDSA, RSASSA, RSAPSS); "
        "re-serialises exactly",
        run=signature,
        seeds=_blobs("signature"),
        max_len=1024,
    ),
    evidence_parser(
        name="tpm_public",
        summary="TpmPublic.from_bytes (TPMT_PUBLIC); re-serialises exactly (its TPM name "
        "hashes that); the key as a cryptography object",
        run=public,
        seeds=_blobs("ak_public"),
        max_len=1024,
    ),
    evidence_parser(
        name="tpm_pcrs",
        summary="PcrValues.from_bytes (TPML_PCR_SELECTION, count, TPM2B_DIGESTs); "
        "re-serialises exactly; digests in every bank",
        run=pcrs,
        seeds=_blobs("pcrs"),
        max_len=4096,
    ),
    evidence_parser(
        name="hcl_report",
        summary="HclReport.from_bytes, the embedded SNP report or TDREPORT, the runtime "
        "claims JSON and the HCLAkPub JWK as a key",
        run=hcl,
        seeds=lambda m: m.hcl_reports,
        max_len=8192,
    ),
)
