"""Errors raised by the verifier.

The tree, drawn once::

    VerifierError                        base of everything raised here
    ├── VerificationFailed               checked, and it failed            (CLI exit 1)
    │   ├── EvidenceSignatureInvalid     the report/quote/document signature
    │   ├── CertificateChainInvalid      a certificate chain, CRL or validity window
    │   ├── TcbMismatch                  TCB claims disagree (report vs certificate, status)
    │   ├── BindingMismatch              REPORT_DATA / nonce / keyset binding
    │   ├── PolicyViolation              the operator's policy rejects the claims
    │   └── ReceiptInvalid               a receipt or checkpoint does not verify
    ├── CouldNotCheck                    a verdict was impossible (missing collateral...)  (exit 3)
    └── BadInput                         input that is not well formed   (exit 2)

Every error carries ``check``, the dotted name of the check (``snp.signature``,
``policy.debug``...), so that a report can say exactly which check failed.
Malformed-input errors from :mod:`attestation` and :mod:`transcript`
(``MalformedEvidence``, ``MalformedReceipt``...) are bad input too.
"""

from __future__ import annotations


class VerifierError(Exception):
    """Base class for every error raised by :mod:`verifier`."""

    def __init__(self, check: str, reason: str) -> None:
        self.check = check
        self.reason = reason
        super().__init__(f"{check}: {reason}")


class VerificationFailed(VerifierError):
    """Checked, and the check failed."""


class EvidenceSignatureInvalid(VerificationFailed):
    """The signature over the evidence does not verify."""


class CertificateChainInvalid(VerificationFailed):
    """A certificate chain does not lead to a trusted root, or is revoked or expired."""


class TcbMismatch(VerificationFailed):
    """TCB claims disagree with each other or with the collateral."""


class BindingMismatch(VerificationFailed):
    """REPORT_DATA, nonce or keyset binding does not hold."""


class PolicyViolation(VerificationFailed):
    """The evidence verifies, but the operator's policy rejects what it claims."""


class ReceiptInvalid(VerificationFailed):
    """A receipt, chain or checkpoint fails verification."""


class CouldNotCheck(VerifierError):
    """No verdict was possible: collateral missing offline, a root not given, etc."""


class BadInput(VerifierError):
    """Input that is not well formed (a policy file, a bundle, a time)."""
