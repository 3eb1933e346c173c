"""Verify an AWS Nitro Enclaves attestation document and return what it claims.

Checks, in order (each failure names its check):

- ``nitro.chain``: ``certificate`` <- ``cabundle`` (backwards) <- a trusted anchor,
  which ``cabundle[0]`` must equal byte for byte; CA constraints and key usage.
- ``nitro.cose-signature``: the COSE_Sign1 ES384 signature, with the leaf's P-384 key.
- ``nitro.validity``: every certificate valid at ``now`` or, when no ``now`` is given,
  at the document's own timestamp (Nitro leaves live about three hours, so the wall
  clock would reject every document after that); the leaf also covers the timestamp.
- ``nitro.digest``: the PCRs are SHA-384 and all 48 bytes long.
- ``nitro.binding``: when ``user_data`` is veritee's 64-byte REPORT_DATA and a nonce is
  present, the nonce equals REPORT_DATA's second half.
- ``nitro.report-data``: the Evidence's ``report_data`` is the one the document signs.

No policy is applied here (measurements, debug): :mod:`verifier.policy` judges claims.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from attestation.evidence import REPORT_DATA_SIZE, Evidence
from attestation.formats.cose import CoseSign1
from attestation.formats.nitro import NitroDocument, parse_nitro
from verifier.claims import Check, VerifiedEvidence
from verifier.errors import BadInput, BindingMismatch, EvidenceSignatureInvalid, VerificationFailed
from verifier.nitro.chain import CHAIN, VALIDITY, check_validity, verify_chain
from verifier.trust import TrustedRoots

SIGNATURE = "nitro.cose-signature"
DIGEST = "nitro.digest"
BINDING = "nitro.binding"
REPORT_DATA = "nitro.report-data"
MEASURED_PCRS = (0, 1, 2, 3, 4, 8)
DEBUG_PCRS = (0, 1, 2)
SHA384_SIZE = 48
_NONCE_OFFSET = 32


def _verify_signature(cose: CoseSign1, leaf: x509.Certificate) -> None:
    key = leaf.public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP384R1):
        raise EvidenceSignatureInvalid(SIGNATURE, "the signing certificate's key is not P-384")
    try:
        key.verify(cose.signature_der(), cose.to_be_signed(), ec.ECDSA(hashes.SHA384()))
    except InvalidSignature:
        raise EvidenceSignatureInvalid(
            SIGNATURE, "the COSE_Sign1 signature does not verify with the leaf certificate's key"
        ) from None


def _check_digest(doc: NitroDocument) -> None:
    if doc.digest != "SHA384":
        raise VerificationFailed(DIGEST, f"PCRs are {doc.digest}, Nitro uses SHA384")
    wrong = [i for i, value in doc.pcrs.items() if len(value) != SHA384_SIZE]
    if wrong:
        raise VerificationFailed(DIGEST, f"PCRs {wrong} are not {SHA384_SIZE} bytes (SHA-384)")


def _report_data(doc: NitroDocument) -> bytes:
    """veritee's REPORT_DATA: ``user_data`` when it is 64 bytes, else 64 zero bytes."""
    if doc.user_data is not None and len(doc.user_data) == REPORT_DATA_SIZE:
        return doc.user_data
    return bytes(REPORT_DATA_SIZE)


def _check_binding(doc: NitroDocument, report_data: bytes) -> str:
    carries_report_data = doc.user_data is not None and len(doc.user_data) == REPORT_DATA_SIZE
    if not carries_report_data or doc.nonce is None:
        return "no 64-byte user_data with a nonce to bind"
    if doc.nonce != report_data[_NONCE_OFFSET:]:
        raise BindingMismatch(BINDING, "the nonce is not the second half of user_data")
    return "the nonce is the second half of the 64-byte user_data"


def _details(doc: NitroDocument, anchor: x509.Certificate, tagged: bool) -> dict[str, object]:
    def hex_or_none(value: bytes | None) -> str | None:
        return None if value is None else value.hex()

    return {
        "module_id": doc.module_id,
        "timestamp": doc.timestamp.isoformat(),
        "timestamp_ms": doc.timestamp_ms,
        "digest": doc.digest,
        "pcrs": {str(i): value.hex() for i, value in doc.pcrs.items()},
        "user_data": hex_or_none(doc.user_data),
        "nonce": hex_or_none(doc.nonce),
        "public_key": hex_or_none(doc.public_key),
        "leaf": doc.leaf.subject.rfc4514_string(),
        "root_sha256": hashlib.sha256(doc.cabundle[0]).hexdigest(),
        "root": anchor.subject.rfc4514_string(),
        "cose_tagged": tagged,
    }


def _common_name(cert: x509.Certificate) -> str:
    names = cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    return str(names[0].value) if names else cert.subject.rfc4514_string()


def _moment(now: datetime | None, doc: NitroDocument) -> datetime:
    if now is None:
        return doc.timestamp
    if now.tzinfo is None or now.utcoffset() is None:
        raise BadInput(VALIDITY, "now must be a timezone-aware datetime")
    return now.astimezone(UTC)


def verify_nitro(
    evidence: Evidence, *, roots: TrustedRoots, now: datetime | None = None
) -> VerifiedEvidence:
    """Verify Nitro evidence against ``roots`` at ``now`` (default: the document's time).

    Raises MalformedEvidence (bad bytes), a VerificationFailed subclass naming the
    failed check, CouldNotCheck when no roots were given, or BadInput.
    """
    if evidence.platform != "nitro":
        raise BadInput("nitro.platform", f"evidence is for {evidence.platform!r}, not 'nitro'")
    signed = parse_nitro(evidence.report)
    doc = signed.document
    at = _moment(now, doc)

    path = verify_chain(doc.leaf, doc.bundle, doc.cabundle[0], roots)
    anchor = path[-1]
    _verify_signature(signed.cose, doc.leaf)
    check_validity(path, at)
    if now is not None:
        check_validity(path[:1], doc.timestamp)
    _check_digest(doc)
    report_data = _report_data(doc)
    binding = _check_binding(doc, report_data)
    if evidence.report_data != report_data:
        raise BindingMismatch(
            REPORT_DATA, "the evidence's report_data is not what the document signs"
        )
    checks = (
        Check(CHAIN, f"{len(path)} certificates up to {anchor.subject.rfc4514_string()}"),
        Check(SIGNATURE, "ES384 COSE_Sign1 signature by the leaf certificate"),
        Check(VALIDITY, f"every certificate valid at {at.isoformat()}"),
        Check(DIGEST, f"{len(doc.pcrs)} SHA-384 PCRs"),
        Check(BINDING, binding),
        Check(REPORT_DATA, "the evidence's report_data is the signed one"),
    )
    return VerifiedEvidence(
        platform="nitro",
        report_data=report_data,
        measurements={f"pcr{i}": doc.pcrs[i].hex() for i in MEASURED_PCRS if i in doc.pcrs},
        debug=all(not any(doc.pcrs.get(i, b"")) for i in DEBUG_PCRS),
        tcb={},
        signer=f"Nitro NSM {_common_name(doc.leaf)} (root {_common_name(anchor)})",
        checked_at=at,
        checks=checks,
        details=_details(doc, anchor, signed.cose.tagged),
    )
