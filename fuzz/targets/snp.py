"""SEV-SNP: the attestation report, the GHCB certificate table, VCEK/VLEK extensions."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from typing import TYPE_CHECKING

from attestation.errors import MalformedEvidence
from attestation.formats.snp import SnpReport
from attestation.formats.snp_certs import EndorsementExtensions, load_certificate
from attestation.formats.snp_certtable import CertTable
from attestation.formats.snp_tcb import PRODUCTS, TcbVersion
from fuzz.contract import Context, ContractViolation
from fuzz.targets import evidence_parser

if TYPE_CHECKING:
    from fuzz.material import Material


def report(_context: Context, data: bytes) -> None:
    parsed = SnpReport.from_bytes(data)
    # The verifier checks the signature over signed_bytes(), rebuilt from the fields:
    # they must be exactly the bytes that arrived.
    if parsed.to_bytes() != data:
        raise ContractViolation("a parsed SNP report does not re-serialise to its bytes")
    for product in PRODUCTS:
        for raw in (parsed.current_tcb, parsed.reported_tcb, parsed.committed_tcb):
            TcbVersion.from_raw(raw, product)
    _ = parsed.cpuid_product, parsed.debug, parsed.signer_info


def certtable(_context: Context, data: bytes) -> None:
    table = CertTable.from_bytes(data)
    for role, der in table.by_role().items():
        load_certificate(der, f"certtable.{role}")
    if CertTable.from_bytes(table.to_bytes()) != table:
        raise ContractViolation("a certificate table does not survive a round trip")


def certificate(_context: Context, data: bytes) -> None:
    cert = load_certificate(data, "certificates.vcek")
    extensions = EndorsementExtensions.from_certificate(cert, "certificates.vcek")
    _ = extensions.product
    for product in PRODUCTS:
        with contextlib.suppress(MalformedEvidence):
            extensions.tcb(product)


def _tables(material: Material) -> Iterable[bytes]:
    for simulator in material.snp_simulators:
        yield CertTable.from_roles(simulator.chain_der()).to_bytes()
    for evidence in material.snp_evidence:
        yield CertTable.from_roles(dict(evidence.certificates)).to_bytes() + bytes(16)


TARGETS = (
    evidence_parser(
        name="snp_report",
        summary="SnpReport.from_bytes; a parsed report re-serialises to its exact bytes; "
        "TCB_VERSIONs decode in every product's layout",
        run=report,
        seeds=lambda m: [e.report for e in m.snp_evidence],
        max_len=2048,
    ),
    evidence_parser(
        name="snp_certtable",
        summary="CertTable.from_bytes (GHCB certificate table), then each certificate it "
        "names; tables survive a round trip",
        run=certtable,
        seeds=_tables,
        max_len=8192,
    ),
    evidence_parser(
        name="snp_certificate",
        summary="load_certificate + EndorsementExtensions.from_certificate (VCEK/VLEK AMD "
        "extensions) and the endorsed TCB in every product's layout",
        run=certificate,
        seeds=lambda m: m.snp_certificates,
        max_len=4096,
    ),
)
