"""The three links from the TD's report to the PCK key: signature, QE report, key binding."""

from __future__ import annotations

import hashlib

from cryptography import x509

from attestation.formats.tdx import TdxQuote
from verifier.errors import BindingMismatch, EvidenceSignatureInvalid
from verifier.tdx.ecdsa import public_key_from_raw, verify_raw


def check_quote_signature(quote: TdxQuote) -> None:
    """The attestation key signed the header and TD report body."""
    data = quote.signature_data
    key = public_key_from_raw(data.attestation_key)
    if key is None:
        raise EvidenceSignatureInvalid(
            "tdx.quote-signature", "the attestation key is not a P-256 point"
        )
    if not verify_raw(key, data.signature, quote.signed_bytes):
        raise EvidenceSignatureInvalid(
            "tdx.quote-signature",
            "the quote signature does not verify with its attestation key",
        )


def check_qe_report_signature(quote: TdxQuote, pck_leaf: x509.Certificate) -> None:
    """The PCK key signed the quoting enclave's report."""
    qe = quote.signature_data.qe
    if not verify_raw(pck_leaf.public_key(), qe.qe_report_signature, qe.qe_report_raw):
        raise EvidenceSignatureInvalid(
            "tdx.qe-report-signature", "the QE report signature does not verify with the PCK key"
        )


def check_ak_binding(quote: TdxQuote) -> None:
    """QE REPORTDATA = sha256(attestation key ‖ QE auth data) ‖ 32 zero bytes."""
    data = quote.signature_data
    qe = data.qe
    expected = hashlib.sha256(data.attestation_key + qe.qe_auth_data).digest() + bytes(32)
    if qe.qe_report.report_data != expected:
        raise BindingMismatch(
            "tdx.ak-binding",
            "the QE report does not bind the attestation key "
            "(REPORTDATA != sha256(key ‖ QE auth data) ‖ zeros)",
        )
