"""Verify SEV-SNP evidence: chain, signature, and the certificate-to-report bindings.

``verify_snp`` checks, in order, and raises at the first failure:

1. ``snp.report``: the report parses (else MalformedEvidence, bad input).
2. ``snp.report-data``: REPORT_DATA is the 64 bytes the evidence says it binds.
3. ``snp.vcek``: the evidence carries the VCEK (else CouldNotCheck).
4. ``snp.vcek-chain``: ARK -> ASK -> VCEK, RSASSA-PSS SHA-384, ARK among the anchors.
5. ``snp.validity``: every certificate is valid at ``now``.
6. ``snp.signature``: the VCEK's ECDSA P-384 signature over bytes 0x000-0x29F.
7. ``snp.product``: the report's CPUID product agrees with the VCEK's product name.
8. ``snp.tcb``: the VCEK's TCB extensions equal REPORTED_TCB.
9. ``snp.chip-id``: the VCEK's hwID equals CHIP_ID (first 8 bytes on Turin).

A report whose SIGNING_KEY is the VLEK goes the same way with ``snp.vlek``,
``snp.vlek-chain`` (ARK -> ASVK -> VLEK) and, instead of the chip id, ``snp.csp-id``:
a VLEK names the cloud provider it was issued to, not a chip.

It applies no policy: debug guests, old TCBs or any measurement verify here; judging
them is :mod:`verifier.policy`'s job.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from attestation.evidence import Evidence
from attestation.formats.snp import SigningKey, SnpReport
from attestation.formats.snp_certs import HWID_SIZES, EndorsementExtensions, load_certificate
from attestation.formats.snp_tcb import PRODUCT_NAMES, Product, TcbVersion, product_from_name
from verifier.claims import Check, VerifiedEvidence
from verifier.errors import (
    BadInput,
    BindingMismatch,
    CouldNotCheck,
    EvidenceSignatureInvalid,
    TcbMismatch,
)
from verifier.snp.chain import AmdChain, check_validity, common_name, verify_amd_chain
from verifier.trust import TrustedRoots


def verify_snp(evidence: Evidence, *, roots: TrustedRoots, now: datetime) -> VerifiedEvidence:
    """Verify SEV-SNP ``evidence`` against ``roots`` at ``now``; raise a VerifierError."""
    if now.tzinfo is None:
        raise BadInput("time", "the verification time must carry a time zone")
    if evidence.platform != "sev-snp":
        raise BadInput("snp.report", f"this is {evidence.platform} evidence, not sev-snp")
    report = SnpReport.from_bytes(evidence.report)
    checks = [
        Check("snp.report", f"well-formed SEV-SNP attestation report, version {report.version}")
    ]
    checks.append(_check_report_data(report, evidence))
    role = _signer_role(report)
    leaf = _leaf(evidence, role)
    extensions = EndorsementExtensions.from_certificate(leaf, f"certificates.{role.lower()}")
    candidates = [
        load_certificate(der, f"certificates.{name}")
        for name, der in sorted(evidence.certificates.items())
        if name in ("ask", "asvk")
    ]
    chain = verify_amd_chain(leaf, roots=roots, candidates=candidates, leaf_role=role)
    checks.append(Check(f"snp.{role.lower()}-chain", chain.describe(role)))
    checks.append(check_validity(chain, role, now))
    checks.append(_check_signature(report, leaf, role))
    product, product_check = detect_product(report, extensions, chain)
    checks.append(product_check)
    tcb = TcbVersion.from_raw(report.reported_tcb, product)
    checks.append(_check_tcb(tcb, extensions, role))
    if role == "VCEK":
        checks.append(_check_chip_id(report, extensions, product))
    else:
        checks.append(_check_csp_id(extensions))
    return VerifiedEvidence(
        platform="sev-snp",
        report_data=report.report_data,
        measurements={"measurement": report.measurement.hex()},
        debug=report.debug,
        tcb=tcb.parts(),
        signer=f"{role} ({PRODUCT_NAMES[product]})",
        checked_at=now,
        checks=tuple(checks),
        details=report_details(report, product, extensions),
    )


def _check_report_data(report: SnpReport, evidence: Evidence) -> Check:
    if report.report_data != evidence.report_data:
        raise BindingMismatch(
            "snp.report-data",
            "the report's REPORT_DATA is not the report data this evidence claims to bind "
            f"(report: {report.report_data.hex()}, evidence: {evidence.report_data.hex()})",
        )
    return Check("snp.report-data", "REPORT_DATA equals the evidence's report data")


def _signer_role(report: SnpReport) -> str:
    if report.signing_key == SigningKey.NONE:
        raise EvidenceSignatureInvalid(
            "snp.signature", "the report says it is not signed (SIGNING_KEY = none)"
        )
    return "VLEK" if report.signing_key == SigningKey.VLEK else "VCEK"


def _leaf(evidence: Evidence, role: str) -> x509.Certificate:
    name = role.lower()
    der = evidence.certificates.get(name)
    if der is None:
        raise CouldNotCheck(
            f"snp.{name}",
            f"the evidence carries no {role} certificate, so the report's signer is unknown; "
            f"fetch the {role} for this chip and TCB and add it as certificates.{name}",
        )
    return load_certificate(der, f"certificates.{name}")


def _check_signature(report: SnpReport, leaf: x509.Certificate, role: str) -> Check:
    key = leaf.public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP384R1):
        raise EvidenceSignatureInvalid(
            "snp.signature", f"the {role} certificate does not hold an ECDSA P-384 key"
        )
    signature = encode_dss_signature(report.signature_r, report.signature_s)
    try:
        key.verify(signature, report.signed_bytes(), ec.ECDSA(hashes.SHA384()))
    except InvalidSignature:
        raise EvidenceSignatureInvalid(
            "snp.signature",
            f"the report's signature does not verify with the {role} key: the report was "
            f"altered, or another key signed it",
        ) from None
    return Check(
        "snp.signature",
        f"report signed by the {role} (ECDSA P-384 with SHA-384 over bytes 0x000-0x29F)",
    )


def detect_product(
    report: SnpReport, extensions: EndorsementExtensions, chain: AmdChain
) -> tuple[Product, Check]:
    """The product: from CPUID (v3+), else the certificate's name, else the trusted root."""
    cpuid, named = report.cpuid_product, extensions.product
    if cpuid and named and cpuid != named:
        raise BindingMismatch(
            "snp.product",
            f"the report's CPUID says {PRODUCT_NAMES[cpuid]} but the certificate is for "
            f"{extensions.product_name}",
        )
    if cpuid:
        return cpuid, Check("snp.product", f"{PRODUCT_NAMES[cpuid]}, from the report's CPUID")
    if named:
        return named, Check(
            "snp.product", f"{PRODUCT_NAMES[named]}, from the certificate's product name"
        )
    rooted = product_from_name(common_name(chain.ark).removeprefix("ARK-"))
    if rooted:
        return rooted, Check("snp.product", f"{PRODUCT_NAMES[rooted]}, from the trusted root")
    raise CouldNotCheck(
        "snp.product",
        f"cannot tell which AMD product made this report (certificate product "
        f"'{extensions.product_name}'), so its TCB cannot be read",
    )


def _check_tcb(tcb: TcbVersion, extensions: EndorsementExtensions, role: str) -> Check:
    endorsed = extensions.tcb(tcb.product)
    if endorsed.raw() != tcb.raw():
        raise TcbMismatch(
            "snp.tcb",
            f"the {role} certifies TCB {endorsed} but the report's REPORTED_TCB is {tcb}: "
            f"the certificate belongs to another firmware level",
        )
    return Check("snp.tcb", f"the {role} certifies the report's REPORTED_TCB ({tcb})")


def _check_chip_id(report: SnpReport, extensions: EndorsementExtensions, product: Product) -> Check:
    if extensions.hwid is None:
        raise BindingMismatch("snp.chip-id", "the VCEK certificate names no chip (no hwID)")
    if report.mask_chip_key and not any(report.chip_id):
        return Check(
            "snp.chip-id",
            "CHIP_ID is masked by the host (MASK_CHIP_KEY); the VCEK signature names the chip",
        )
    size = HWID_SIZES[product]
    if extensions.hwid != report.chip_id[:size]:
        raise BindingMismatch(
            "snp.chip-id",
            f"the VCEK was issued for chip {extensions.hwid.hex()} but the report comes "
            f"from chip {report.chip_id[:size].hex()}",
        )
    return Check("snp.chip-id", f"the VCEK was issued for this chip ({extensions.hwid.hex()})")


def _check_csp_id(extensions: EndorsementExtensions) -> Check:
    if extensions.csp_id is None or extensions.hwid is not None:
        raise BindingMismatch(
            "snp.csp-id",
            "the report says a VLEK signed it, but the certificate names no cloud provider "
            "(no CSP id); it is not a VLEK",
        )
    return Check(
        "snp.csp-id",
        f"the VLEK was issued to the cloud provider '{extensions.csp_id}' "
        "(a VLEK is not bound to one chip)",
    )


def report_details(
    report: SnpReport, product: Product, extensions: EndorsementExtensions
) -> dict[str, Any]:
    """Fields worth showing, JSON-ready (hex strings, integers, decoded TCBs)."""

    def tcb(raw: int) -> dict[str, int]:
        return TcbVersion.from_raw(raw, product).parts()

    cpuid = None
    if report.cpuid_fam_id is not None:
        cpuid = {
            "family": report.cpuid_fam_id,
            "model": report.cpuid_mod_id,
            "stepping": report.cpuid_step,
        }
    return {
        "product": PRODUCT_NAMES[product],
        "certificate_product_name": extensions.product_name,
        "csp_id": extensions.csp_id,
        "version": report.version,
        "vmpl": report.vmpl,
        "policy": report.policy,
        "guest_svn": report.guest_svn,
        "family_id": report.family_id.hex(),
        "image_id": report.image_id.hex(),
        "host_data": report.host_data.hex(),
        "id_key_digest": report.id_key_digest.hex(),
        "author_key_digest": report.author_key_digest.hex(),
        "author_key_en": report.author_key_en,
        "report_id": report.report_id.hex(),
        "report_id_ma": report.report_id_ma.hex(),
        "chip_id": report.chip_id.hex(),
        "mask_chip_key": report.mask_chip_key,
        "signing_key": report.signing_key.name,
        "platform_info": report.platform_info,
        "current_tcb": tcb(report.current_tcb),
        "committed_tcb": tcb(report.committed_tcb),
        "launch_tcb": tcb(report.launch_tcb),
        "reported_tcb": tcb(report.reported_tcb),
        "current_version": str(report.current_version),
        "committed_version": str(report.committed_version),
        "cpuid": cpuid,
        "launch_mit_vector": report.launch_mit_vector,
        "current_mit_vector": report.current_mit_vector,
    }
