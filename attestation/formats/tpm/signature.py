"""TPMT_SIGNATURE for ECDSA, RSASSA (PKCS#1 v1.5) and RSAPSS.

Layout (TPM 2.0 Part 2, 11.3.4), big-endian::

    TPMI_ALG_SIG_SCHEME  sigAlg        ECDSA 0x0018 | RSASSA 0x0014 | RSAPSS 0x0016
    TPMI_ALG_HASH        hash
    ECDSA:               TPM2B_ECC_PARAMETER signatureR, TPM2B_ECC_PARAMETER signatureS
    RSASSA / RSAPSS:     TPM2B_PUBLIC_KEY_RSA sig
"""

from __future__ import annotations

from dataclasses import dataclass

from attestation.errors import MalformedEvidence
from attestation.formats.tpm.constants import (
    MAX_ECC_KEY_BYTES,
    MAX_RSA_KEY_BYTES,
    Alg,
    HashAlg,
    alg_name,
    hash_alg,
)
from attestation.formats.tpm.wire import Reader, tpm2b, u16

SIGNATURE_SCHEMES = frozenset({Alg.ECDSA, Alg.RSASSA, Alg.RSAPSS})


@dataclass(frozen=True)
class TpmSignature:
    """A parsed TPMT_SIGNATURE. ECDSA fills ``r``/``s``; RSA schemes fill ``rsa``."""

    sig_alg: int
    hash_alg: int
    r: bytes = b""
    s: bytes = b""
    rsa: bytes = b""

    @property
    def is_ecdsa(self) -> bool:
        return self.sig_alg == Alg.ECDSA

    @property
    def hash(self) -> HashAlg:
        found = hash_alg(self.hash_alg)
        if found is None:
            raise MalformedEvidence(
                f"unsupported signature hash {alg_name(self.hash_alg)}", field="TPMT_SIGNATURE.hash"
            )
        return found

    def to_bytes(self) -> bytes:
        head = u16(self.sig_alg) + u16(self.hash_alg)
        if self.is_ecdsa:
            return head + tpm2b(self.r) + tpm2b(self.s)
        return head + tpm2b(self.rsa)

    @classmethod
    def from_bytes(cls, data: bytes) -> TpmSignature:
        r = Reader(data, structure="TPMT_SIGNATURE")
        sig_alg = r.u16("sigAlg")
        if sig_alg not in SIGNATURE_SCHEMES:
            raise r.fail("sigAlg", f"unsupported signature scheme {alg_name(sig_alg)}", at=0)
        start = r.offset
        hash_id = r.u16("hash")
        if hash_alg(hash_id) is None:
            raise r.fail("hash", f"unsupported hash {alg_name(hash_id)}", at=start)
        if sig_alg == Alg.ECDSA:
            sig_r = r.tpm2b("signatureR", max_size=MAX_ECC_KEY_BYTES)
            sig_s = r.tpm2b("signatureS", max_size=MAX_ECC_KEY_BYTES)
            r.end()
            return cls(sig_alg, hash_id, r=sig_r, s=sig_s)
        sig = r.tpm2b("sig", max_size=MAX_RSA_KEY_BYTES)
        r.end()
        return cls(sig_alg, hash_id, rsa=sig)
