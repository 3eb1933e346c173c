"""ECDSA P-256 / SHA-256 over raw signatures, as Intel's quotes and collateral carry them.

Quotes and collateral hold signatures as 64 raw bytes (r ‖ s, big-endian) and the
attestation key as 64 raw bytes (x ‖ y); X.509 wants DER and SEC1.
"""

from __future__ import annotations

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

_P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def public_key_from_raw(raw: bytes) -> ec.EllipticCurvePublicKey | None:
    """The P-256 key ``x ‖ y``, or None if that point is not on the curve."""
    if len(raw) != 64:
        return None
    try:
        return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b"\x04" + raw)
    except ValueError:
        return None


def verify_raw(public_key: object, signature: bytes, data: bytes) -> bool:
    """True if ``signature`` (r ‖ s) is a valid ECDSA P-256 SHA-256 signature of ``data``."""
    if not isinstance(public_key, ec.EllipticCurvePublicKey) or len(signature) != 64:
        return False
    if not isinstance(public_key.curve, ec.SECP256R1):
        return False
    r = int.from_bytes(signature[:32], "big")
    s = int.from_bytes(signature[32:], "big")
    if not (0 < r < _P256_ORDER and 0 < s < _P256_ORDER):
        return False
    try:
        public_key.verify(encode_dss_signature(r, s), data, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return False
    return True
