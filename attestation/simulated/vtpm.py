"""An in-memory TPM: the shipped fake of the :class:`TpmDevice` seam.

:class:`SoftwareTpm` keeps PCR banks, NV indices and keys in memory and answers TPM2_Quote
with real TPMS_ATTEST / TPMT_SIGNATURE bytes, signed in software. Primary keys are
deterministic per (hierarchy, template), as on a real TPM, so an AK certificate issued
for one still matches after the key is recreated. Differences from a real TPM worth
knowing: ``qualifiedSigner`` holds the key's name (a real TPM puts the qualified name),
and nothing is authorised (no passwords, no policies).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace

from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from attestation.errors import ProviderError
from attestation.formats.tpm import (
    HASHES,
    HASHES_BY_NAME,
    Alg,
    ClockInfo,
    EccKey,
    PcrSelection,
    PcrValues,
    QuoteAttest,
    RsaKey,
    Scheme,
    TpmPublic,
    TpmSignature,
)
from attestation.formats.tpm.keys import ECC_CURVES, SIGNATURE_HASHES
from attestation.providers.vtpm.device import LoadedKey, QualifyingDataTooLarge

PCR_COUNT = 24
PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


@dataclass(frozen=True)
class _Key:
    private: PrivateKey
    public: TpmPublic


class SoftwareTpm:
    """A TpmDevice in memory. ``max_qualifying_data`` mimics TPMs without SHA-512 (34, 50)."""

    def __init__(
        self,
        *,
        banks: tuple[str, ...] = ("sha256",),
        max_qualifying_data: int = 66,
        firmware_version: int = 0x2000_0001_0000_0000,
    ) -> None:
        self.pcrs: dict[int, list[bytes]] = {
            HASHES_BY_NAME[b].alg: [bytes(HASHES_BY_NAME[b].size)] * PCR_COUNT for b in banks
        }
        self.nv: dict[int, bytes] = {}
        self.max_qualifying_data = max_qualifying_data
        self.firmware_version = firmware_version
        self._keys: dict[int, _Key] = {}
        self._primaries: dict[tuple[int, bytes], _Key] = {}
        self._handles = itertools.count(0x80000000)
        self._clock = itertools.count(1000, 17)

    # -- state a test sets up ------------------------------------------------------------

    def extend(self, index: int, data: bytes, bank: str = "sha256") -> None:
        """TPM2_PCR_Extend with the measurement ``H(data)``."""
        h = HASHES_BY_NAME[bank]
        self.pcrs[h.alg][index] = h.digest(self.pcrs[h.alg][index] + h.digest(data))

    def nv_define(self, index: int, data: bytes) -> None:
        self.nv[index] = bytes(data)

    def persist(self, key: LoadedKey, handle: int) -> LoadedKey:
        """TPM2_EvictControl: make ``key`` persistent at ``handle``."""
        self._keys[handle] = self._keys[key.handle]
        return replace(key, handle=handle, transient=False)

    # -- TpmDevice -----------------------------------------------------------------------

    def nv_read(self, index: int) -> bytes | None:
        return self.nv.get(index)

    def persistent_key(self, handle: int) -> LoadedKey | None:
        key = self._keys.get(handle)
        if key is None or handle < 0x81000000:
            return None
        return LoadedKey(handle, key.public.to_bytes(), transient=False)

    def create_primary(self, hierarchy: int, template: bytes) -> LoadedKey:
        slot = (hierarchy, bytes(template))
        if slot not in self._primaries:
            self._primaries[slot] = _generate(TpmPublic.from_bytes(template))
        handle = next(self._handles)
        self._keys[handle] = self._primaries[slot]
        return LoadedKey(handle, self._keys[handle].public.to_bytes(), transient=True)

    def quote(
        self, key: LoadedKey, qualifying_data: bytes, selection: PcrSelection, scheme: Scheme
    ) -> tuple[bytes, bytes]:
        held = self._keys.get(key.handle)
        if held is None:
            raise ProviderError(f"no key loaded at 0x{key.handle:08x}")
        if not held.public.is_attestation_key:
            raise ProviderError("TPM_RC_KEY: not a restricted signing key")
        if len(qualifying_data) > self.max_qualifying_data:
            raise QualifyingDataTooLarge(
                f"TPM_RC_SIZE: {len(qualifying_data)} bytes of qualifying data"
            )
        if scheme.scheme == Alg.NULL:
            scheme = held.public.scheme
        if scheme.scheme == Alg.NULL:
            raise ProviderError("TPM_RC_SCHEME: neither the key nor the command names a scheme")
        values = self.pcr_read(selection)
        hash_alg = HASHES.get(scheme.hash_alg)
        if hash_alg is None:
            raise ProviderError(f"TPM_RC_HASH: unsupported hash 0x{scheme.hash_alg:04x}")
        attest = QuoteAttest(
            qualified_signer=held.public.name(),
            extra_data=bytes(qualifying_data),
            clock_info=ClockInfo(next(self._clock), 1, 0, True),
            firmware_version=self.firmware_version,
            pcr_select=selection,
            pcr_digest=values.digest(hash_alg),
        ).to_bytes()
        return attest, _sign(held.private, scheme, attest).to_bytes()

    def pcr_read(self, selection: PcrSelection) -> PcrValues:
        values: list[bytes] = []
        for bank, index in selection.pairs():
            if bank.hash_alg not in self.pcrs or index >= PCR_COUNT:
                raise ProviderError(f"PCR {index} of bank 0x{bank.hash_alg:04x} not implemented")
            values.append(self.pcrs[bank.hash_alg][index])
        return PcrValues(selection, tuple(values))

    def flush(self, key: LoadedKey) -> None:
        if key.transient:
            self._keys.pop(key.handle, None)

    def close(self) -> None:
        self._keys.clear()


def _generate(template: TpmPublic) -> _Key:
    if isinstance(template.key, RsaKey):
        exponent = template.key.public_exponent
        rsa_key = rsa.generate_private_key(exponent, template.key.key_bits)
        modulus = rsa_key.public_key().public_numbers().n
        private: PrivateKey = rsa_key
        size = template.key.key_bits // 8
        key: RsaKey | EccKey = replace(template.key, modulus=modulus.to_bytes(size, "big"))
    else:
        curve = ECC_CURVES.get(template.key.curve)
        if curve is None:
            raise ProviderError(f"TPM_RC_CURVE: curve 0x{template.key.curve:04x}")
        size = (curve.key_size + 7) // 8
        private = ec.generate_private_key(curve)
        numbers = private.public_key().public_numbers()
        key = replace(
            template.key, x=numbers.x.to_bytes(size, "big"), y=numbers.y.to_bytes(size, "big")
        )
    return _Key(private, replace(template, key=key))


def _sign(private: PrivateKey, scheme: Scheme, data: bytes) -> TpmSignature:
    digest = SIGNATURE_HASHES.get(scheme.hash_alg)
    if digest is None:
        raise ProviderError(f"TPM_RC_HASH: no signing with hash 0x{scheme.hash_alg:04x} here")
    if isinstance(private, ec.EllipticCurvePrivateKey):
        if scheme.scheme != Alg.ECDSA:
            raise ProviderError("TPM_RC_SCHEME: only ECDSA for ECC keys here")
        r, s = decode_dss_signature(private.sign(data, ec.ECDSA(digest)))
        size = (private.curve.key_size + 7) // 8
        return TpmSignature(
            Alg.ECDSA, scheme.hash_alg, r=r.to_bytes(size, "big"), s=s.to_bytes(size, "big")
        )
    if scheme.scheme == Alg.RSASSA:
        sig = private.sign(data, padding.PKCS1v15(), digest)
    elif scheme.scheme == Alg.RSAPSS:
        sig = private.sign(
            data, padding.PSS(padding.MGF1(digest), padding.PSS.DIGEST_LENGTH), digest
        )
    else:
        raise ProviderError("TPM_RC_SCHEME: RSASSA or RSAPSS for RSA keys")
    return TpmSignature(scheme.scheme, scheme.hash_alg, rsa=sig)
