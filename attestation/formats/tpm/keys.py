"""TPM keys and hashes as ``cryptography`` objects (no checks here)."""

from __future__ import annotations

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from attestation.errors import MalformedEvidence
from attestation.formats.tpm.constants import Alg, EccCurve
from attestation.formats.tpm.public import RsaKey, TpmPublic

PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey
# The hashes a quote signature may use. SHA-1 is parsed (TPMs implement it) but absent here,
# so nothing signs or accepts a SHA-1 signature.
SIGNATURE_HASHES: dict[int, hashes.HashAlgorithm] = {
    Alg.SHA256: hashes.SHA256(),
    Alg.SHA384: hashes.SHA384(),
    Alg.SHA512: hashes.SHA512(),
}
ECC_CURVES: dict[int, ec.EllipticCurve] = {
    EccCurve.NIST_P256: ec.SECP256R1(),
    EccCurve.NIST_P384: ec.SECP384R1(),
    EccCurve.NIST_P521: ec.SECP521R1(),
}


def public_key(public: TpmPublic) -> PublicKey:
    """The key of ``public``; MalformedEvidence for an unknown curve or an invalid key."""
    try:
        if isinstance(public.key, RsaKey):
            n = int.from_bytes(public.key.modulus, "big")
            return rsa.RSAPublicNumbers(public.key.public_exponent, n).public_key()
        curve = ECC_CURVES.get(public.key.curve)
        if curve is None:
            raise MalformedEvidence(
                f"unsupported curve 0x{public.key.curve:04x}", field="TPMT_PUBLIC.curveID"
            )
        x, y = (int.from_bytes(v, "big") for v in (public.key.x, public.key.y))
        return ec.EllipticCurvePublicNumbers(x, y, curve).public_key()
    except ValueError as exc:
        if isinstance(exc, MalformedEvidence):
            raise
        raise MalformedEvidence(
            f"not a valid public key: {exc}", field="TPMT_PUBLIC.unique"
        ) from None


def same_public_key(a: PublicKey, b: object) -> bool:
    """Whether two keys are the same key (same type and the same public numbers)."""
    if isinstance(a, rsa.RSAPublicKey) and isinstance(b, rsa.RSAPublicKey):
        return a.public_numbers() == b.public_numbers()
    if isinstance(a, ec.EllipticCurvePublicKey) and isinstance(b, ec.EllipticCurvePublicKey):
        return a.curve.name == b.curve.name and a.public_numbers() == b.public_numbers()
    return False
