"""TPMT_PUBLIC for RSA and ECC keys, and the TPM name of a key.

Layout (TPM 2.0 Part 2, 12.2.4), big-endian::

    TPMI_ALG_PUBLIC   type                 RSA (0x0001) or ECC (0x0023)
    TPMI_ALG_HASH     nameAlg
    TPMA_OBJECT       objectAttributes     UINT32
    TPM2B_DIGEST      authPolicy
    parameters        TPMS_RSA_PARMS | TPMS_ECC_PARMS:
        TPMT_SYM_DEF_OBJECT  symmetric     algorithm [keyBits mode]   (NULL for signing keys)
        TPMT_*_SCHEME        scheme        scheme [hashAlg [count]]
        RSA: UINT16 keyBits, UINT32 exponent (0 means 65537)
        ECC: UINT16 curveID, TPMT_KDF_SCHEME kdf
    unique            RSA: TPM2B modulus;  ECC: TPM2B x, TPM2B y

The name of a key is ``nameAlg ‖ H_nameAlg(TPMT_PUBLIC)`` (Part 1, 16).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from attestation.errors import MalformedEvidence
from attestation.formats.tpm.constants import (
    AK_REQUIRED_ATTRIBUTES,
    MAX_DIGEST_SIZE,
    MAX_ECC_KEY_BYTES,
    MAX_RSA_KEY_BYTES,
    Alg,
    alg_name,
    hash_alg,
)
from attestation.formats.tpm.wire import Reader, tpm2b, u16, u32

DEFAULT_RSA_EXPONENT = 65537
# Schemes whose details are a hash algorithm (and, for ECDAA, a count as well).
_HASHED_SCHEMES = frozenset(
    {Alg.RSASSA, Alg.RSAPSS, Alg.OAEP, Alg.ECDSA, Alg.ECDAA, Alg.SM2, Alg.ECSCHNORR, Alg.ECDH,
     Alg.ECMQV, Alg.HMAC, Alg.KDF1_SP800_56A, Alg.KDF2, Alg.KDF1_SP800_108}
)  # fmt: skip
_EMPTY_SCHEMES = frozenset({Alg.NULL, Alg.RSAES})


@dataclass(frozen=True)
class SymDef:
    """TPMT_SYM_DEF_OBJECT. ``algorithm`` NULL means none (signing keys)."""

    algorithm: int = Alg.NULL
    key_bits: int = 0
    mode: int = 0

    def to_bytes(self) -> bytes:
        if self.algorithm == Alg.NULL:
            return u16(Alg.NULL)
        return u16(self.algorithm) + u16(self.key_bits) + u16(self.mode)

    @classmethod
    def read(cls, r: Reader) -> SymDef:
        algorithm = r.u16("symmetric.algorithm")
        if algorithm == Alg.NULL:
            return cls()
        key_bits = r.u16("symmetric.keyBits")
        mode = r.u16("symmetric.mode")
        return cls(algorithm, key_bits, mode)


@dataclass(frozen=True)
class Scheme:
    """A TPMT_RSA_SCHEME, TPMT_ECC_SCHEME or TPMT_KDF_SCHEME: scheme, hash, ECDAA count."""

    scheme: int = Alg.NULL
    hash_alg: int = Alg.NULL
    count: int = 0

    def to_bytes(self) -> bytes:
        if self.scheme in _EMPTY_SCHEMES:
            return u16(self.scheme)
        out = u16(self.scheme) + u16(self.hash_alg)
        return out + u16(self.count) if self.scheme == Alg.ECDAA else out

    @classmethod
    def read(cls, r: Reader, name: str) -> Scheme:
        start = r.offset
        scheme = r.u16(f"{name}.scheme")
        if scheme in _EMPTY_SCHEMES:
            return cls(scheme)
        if scheme not in _HASHED_SCHEMES:
            raise r.fail(f"{name}.scheme", f"unknown scheme {alg_name(scheme)}", at=start)
        hash_id = r.u16(f"{name}.hashAlg")
        count = r.u16(f"{name}.count") if scheme == Alg.ECDAA else 0
        return cls(scheme, hash_id, count)


@dataclass(frozen=True)
class RsaKey:
    key_bits: int
    exponent: int  # as encoded: 0 stands for 65537
    modulus: bytes

    @property
    def public_exponent(self) -> int:
        return self.exponent or DEFAULT_RSA_EXPONENT


@dataclass(frozen=True)
class EccKey:
    curve: int
    x: bytes
    y: bytes
    kdf: Scheme = field(default_factory=Scheme)


@dataclass(frozen=True)
class TpmPublic:
    """A parsed TPMT_PUBLIC of an RSA or ECC key."""

    name_alg: int
    attributes: int
    key: RsaKey | EccKey
    scheme: Scheme = field(default_factory=Scheme)
    symmetric: SymDef = field(default_factory=SymDef)
    auth_policy: bytes = b""

    @property
    def type(self) -> int:
        return Alg.RSA if isinstance(self.key, RsaKey) else Alg.ECC

    @property
    def is_attestation_key(self) -> bool:
        """Restricted, signing, fixedTPM and fixedParent: the TPM signs only what it made."""
        return self.attributes & AK_REQUIRED_ATTRIBUTES == AK_REQUIRED_ATTRIBUTES

    def name(self) -> bytes:
        """The TPM name: nameAlg (2 bytes) ‖ H_nameAlg(TPMT_PUBLIC)."""
        h = hash_alg(self.name_alg)
        if h is None:
            raise MalformedEvidence(
                f"cannot name a key with nameAlg {alg_name(self.name_alg)}", field="nameAlg"
            )
        return u16(self.name_alg) + h.digest(self.to_bytes())

    def to_bytes(self) -> bytes:
        head = (
            u16(self.type)
            + u16(self.name_alg)
            + u32(self.attributes)
            + tpm2b(self.auth_policy)
            + self.symmetric.to_bytes()
            + self.scheme.to_bytes()
        )
        if isinstance(self.key, RsaKey):
            return head + u16(self.key.key_bits) + u32(self.key.exponent) + tpm2b(self.key.modulus)
        return (
            head
            + u16(self.key.curve)
            + self.key.kdf.to_bytes()
            + tpm2b(self.key.x)
            + tpm2b(self.key.y)
        )

    @classmethod
    def from_bytes(cls, data: bytes, *, base: int = 0) -> TpmPublic:
        """Parse exactly one TPMT_PUBLIC (no trailing bytes)."""
        r = Reader(data, structure="TPMT_PUBLIC", base=base)
        public = cls.read(r)
        r.end()
        return public

    @classmethod
    def read(cls, r: Reader) -> TpmPublic:
        start = r.offset
        key_type = r.u16("type")
        if key_type not in (Alg.RSA, Alg.ECC):
            raise r.fail("type", f"{alg_name(key_type)} is not an RSA or ECC key", at=start)
        name_alg = r.u16("nameAlg")
        attributes = r.u32("objectAttributes")
        auth_policy = r.tpm2b("authPolicy", max_size=MAX_DIGEST_SIZE)
        symmetric = SymDef.read(r)
        scheme = Scheme.read(r, "scheme")
        key: RsaKey | EccKey
        if key_type == Alg.RSA:
            key_bits = r.u16("keyBits")
            exponent = r.u32("exponent")
            modulus = r.tpm2b("unique.rsa", max_size=MAX_RSA_KEY_BYTES)
            key = RsaKey(key_bits, exponent, modulus)
        else:
            curve = r.u16("curveID")
            kdf = Scheme.read(r, "kdf")
            x = r.tpm2b("unique.ecc.x", max_size=MAX_ECC_KEY_BYTES)
            y = r.tpm2b("unique.ecc.y", max_size=MAX_ECC_KEY_BYTES)
            key = EccKey(curve, x, y, kdf)
        return cls(name_alg, attributes, key, scheme, symmetric, auth_policy)
