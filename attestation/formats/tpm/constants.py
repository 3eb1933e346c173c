"""TPM 2.0 constants used by the structures in this package (TPM 2.0 Library, Part 2)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import IntEnum, IntFlag


class Alg(IntEnum):
    """TPM_ALG_ID values this package knows by name."""

    RSA = 0x0001
    SHA1 = 0x0004
    HMAC = 0x0005
    AES = 0x0006
    KEYEDHASH = 0x0008
    XOR = 0x000A
    SHA256 = 0x000B
    SHA384 = 0x000C
    SHA512 = 0x000D
    NULL = 0x0010
    RSASSA = 0x0014
    RSAES = 0x0015
    RSAPSS = 0x0016
    OAEP = 0x0017
    ECDSA = 0x0018
    ECDH = 0x0019
    ECDAA = 0x001A
    SM2 = 0x001B
    ECSCHNORR = 0x001C
    ECMQV = 0x001D
    KDF1_SP800_56A = 0x0020
    KDF2 = 0x0021
    KDF1_SP800_108 = 0x0022
    ECC = 0x0023
    SYMCIPHER = 0x0025
    CFB = 0x0043


class EccCurve(IntEnum):
    """TPM_ECC_CURVE values for the NIST curves."""

    NIST_P256 = 0x0003
    NIST_P384 = 0x0004
    NIST_P521 = 0x0005


class ObjectAttr(IntFlag):
    """TPMA_OBJECT bits."""

    FIXED_TPM = 1 << 1
    ST_CLEAR = 1 << 2
    FIXED_PARENT = 1 << 4
    SENSITIVE_DATA_ORIGIN = 1 << 5
    USER_WITH_AUTH = 1 << 6
    ADMIN_WITH_POLICY = 1 << 7
    NO_DA = 1 << 10
    ENCRYPTED_DUPLICATION = 1 << 11
    RESTRICTED = 1 << 16
    DECRYPT = 1 << 17
    SIGN_ENCRYPT = 1 << 18


# What an attestation key must be: a restricted signing key that never leaves its TPM.
AK_REQUIRED_ATTRIBUTES = (
    ObjectAttr.FIXED_TPM | ObjectAttr.FIXED_PARENT | ObjectAttr.RESTRICTED | ObjectAttr.SIGN_ENCRYPT
)

TPM_GENERATED_VALUE = 0xFF544347  # "\xffTCG": only the TPM itself emits data starting so
TPM_ST_ATTEST_QUOTE = 0x8018

# Persistent, NV and hierarchy handles (Part 2, 7.4; TCG EK Credential Profile; cloud docs).
TPM_RH_OWNER = 0x40000001
TPM_RH_ENDORSEMENT = 0x4000000B


@dataclass(frozen=True)
class HashAlg:
    """A TPM hash algorithm: its id, its hashlib name and its digest size."""

    alg: Alg
    name: str
    size: int

    def digest(self, data: bytes) -> bytes:
        return hashlib.new(self.name, data).digest()


HASHES: dict[int, HashAlg] = {
    Alg.SHA1: HashAlg(Alg.SHA1, "sha1", 20),
    Alg.SHA256: HashAlg(Alg.SHA256, "sha256", 32),
    Alg.SHA384: HashAlg(Alg.SHA384, "sha384", 48),
    Alg.SHA512: HashAlg(Alg.SHA512, "sha512", 64),
}
HASHES_BY_NAME: dict[str, HashAlg] = {h.name: h for h in HASHES.values()}

# The largest digest a TPM may implement (SHA-512). TPM2B_DIGEST and TPM2B_DATA are bounded
# by it: TPM2B_DATA holds sizeof(TPMT_HA) = 2 + 64 bytes on a TPM with SHA-512, but only
# 2 + 48 with SHA-384 at most, and 2 + 32 on a TPM with SHA-256 only.
MAX_DIGEST_SIZE = 64
MAX_DATA_SIZE = 2 + MAX_DIGEST_SIZE
MAX_NAME_SIZE = 2 + MAX_DIGEST_SIZE
MAX_RSA_KEY_BYTES = 512  # RSA-4096
MAX_ECC_KEY_BYTES = 66  # P-521


def hash_alg(alg: int) -> HashAlg | None:
    """The hash algorithm for a TPM_ALG_ID, or None when it is not a hash we implement."""
    return HASHES.get(alg)


def alg_name(alg: int) -> str:
    try:
        return Alg(alg).name.lower()
    except ValueError:
        return f"0x{alg:04x}"
