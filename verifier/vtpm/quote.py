"""The quote itself: AK attributes, the signature, the qualifying data and the PCR digest."""

from __future__ import annotations

import hashlib

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from attestation.formats.tpm import Alg, PcrValues, QuoteAttest, TpmPublic, TpmSignature
from attestation.formats.tpm.constants import alg_name
from attestation.formats.tpm.keys import SIGNATURE_HASHES, public_key
from verifier.claims import Check
from verifier.errors import BindingMismatch, EvidenceSignatureInvalid


def check_ak_attributes(ak: TpmPublic) -> Check:
    """The AK must be a restricted signing key bound to its TPM: it signs only TPM data."""
    if not ak.is_attestation_key:
        raise EvidenceSignatureInvalid(
            "vtpm.ak-attributes",
            f"objectAttributes 0x{ak.attributes:08x} lack restricted, sign, fixedTPM or "
            "fixedParent: such a key could sign data the TPM did not produce",
        )
    return Check("vtpm.ak-attributes", "the AK is a restricted signing key fixed to its TPM")


def verify_quote_signature(attest: bytes, sig: TpmSignature, ak: TpmPublic) -> Check:
    """The AK's signature over the exact TPMS_ATTEST bytes."""
    name = "vtpm.quote-signature"
    if ak.scheme.scheme != Alg.NULL and (sig.sig_alg, sig.hash_alg) != (
        ak.scheme.scheme,
        ak.scheme.hash_alg,
    ):
        raise EvidenceSignatureInvalid(
            name, f"signature uses {alg_name(sig.sig_alg)}, but the AK is bound to "
            f"{alg_name(ak.scheme.scheme)}-{alg_name(ak.scheme.hash_alg)}",
        )  # fmt: skip
    key = public_key(ak)
    digest = SIGNATURE_HASHES.get(sig.hash_alg)
    if digest is None:
        raise EvidenceSignatureInvalid(
            name, f"{alg_name(sig.hash_alg)} signatures are not accepted"
        )
    try:
        if sig.is_ecdsa and isinstance(key, ec.EllipticCurvePublicKey):
            r, s = int.from_bytes(sig.r, "big"), int.from_bytes(sig.s, "big")
            key.verify(encode_dss_signature(r, s), attest, ec.ECDSA(digest))
        elif sig.sig_alg == Alg.RSASSA and isinstance(key, rsa.RSAPublicKey):
            key.verify(sig.rsa, attest, padding.PKCS1v15(), digest)
        elif sig.sig_alg == Alg.RSAPSS and isinstance(key, rsa.RSAPublicKey):
            # TPMs use a salt as long as the digest, or the longest that fits: accept both.
            key.verify(sig.rsa, attest, padding.PSS(padding.MGF1(digest), padding.PSS.AUTO), digest)
        else:
            raise EvidenceSignatureInvalid(
                name,
                f"a {alg_name(sig.sig_alg)} signature cannot come from a {alg_name(ak.type)} AK",
            )
    except (InvalidSignature, ValueError):
        raise EvidenceSignatureInvalid(
            name, "the quote signature does not verify with the AK"
        ) from None
    return Check(
        name,
        f"{alg_name(sig.sig_alg)}-{sig.hash.name} signature over the quote verifies with the AK",
    )


def check_nonce(quote: QuoteAttest, report_data: bytes) -> tuple[Check, str]:
    """Qualifying data is the 64-byte report data, or its SHA-256 for TPMs without SHA-512."""
    name = "vtpm.nonce"
    if quote.extra_data == report_data:
        return Check(name, "qualifying data equals the 64-byte report data"), "report_data"
    if len(quote.extra_data) == 32 and quote.extra_data == hashlib.sha256(report_data).digest():
        return Check(name, "qualifying data equals sha256(report data)"), "sha256(report_data)"
    raise BindingMismatch(
        name, f"qualifying data {quote.extra_data.hex()} is neither the report data "
        "nor its SHA-256",
    )  # fmt: skip


def check_pcrs(quote: QuoteAttest, values: PcrValues, sig: TpmSignature) -> Check:
    """The supplied PCR values are the quoted ones: same selection, same digest."""
    name = "vtpm.pcr-digest"
    if not quote.pcr_select.same_as(values.selection):
        raise BindingMismatch(name, "the PCR values select other PCRs than the quote")
    recomputed = values.digest(sig.hash)
    if recomputed != quote.pcr_digest:
        raise BindingMismatch(
            name, f"the PCR values hash to {recomputed.hex()}, the quote says "
            f"{quote.pcr_digest.hex()}",
        )  # fmt: skip
    return Check(name, f"{len(values.values)} PCR values hash to the quoted pcrDigest")
