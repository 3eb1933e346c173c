"""secp256k1 keys, Ethereum addresses and 65-byte signatures.

A signature here is always ``r ‖ s ‖ v``: 32 + 32 bytes big-endian, then one byte
``v`` that Solidity's ``ecrecover`` takes. veritee signatures are *canonical*:

- low-s (``s <= n/2``), so ``(r, n - s)`` is never a second valid form;
- even-R (``v == 27``): the signer grinds the RFC 6979 nonce with a counter as extra
  data (attempt 0 is plain RFC 6979, attempt ``i`` passes ``i`` as 32 little-endian
  bytes of extra data) until the recovery id is 0. This is the same technique Bitcoin
  Core uses to grind for low-R signatures. It costs two signing attempts on average.

Because ``v`` is fixed, flipping it is detectable without a key recovery, and a
verifier that knows the public key can use a plain ECDSA verify, which is cheaper than
recovery. ``recover_address`` still works exactly like ``ecrecover``.
"""

from __future__ import annotations

import coincurve
from coincurve._libsecp256k1 import ffi, lib
from coincurve.context import GLOBAL_CONTEXT

from transcript.errors import SignatureInvalid
from transcript.keccak import keccak256

SIGNATURE_LENGTH = 65
CANONICAL_V = 27
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
_HALF_N = SECP256K1_N // 2
_MAX_GRIND = 256


def address_from_public_key(public_key: bytes) -> str:
    """EIP-55 checksummed address of a (compressed or uncompressed) secp256k1 public key."""
    point = coincurve.PublicKey(public_key).format(compressed=False)
    return checksum_address(keccak256(point[1:])[12:])


def checksum_address(raw: bytes) -> str:
    """EIP-55 mixed-case hex of a 20-byte address."""
    if len(raw) != 20:
        raise ValueError("an address is 20 bytes")
    lower = raw.hex()
    mask = keccak256(lower.encode()).hex()
    return "0x" + "".join(
        c.upper() if int(m, 16) >= 8 else c for c, m in zip(lower, mask[:40], strict=True)
    )


def parse_address(text: str) -> str:
    """Validate an address string and return its checksummed form.

    All-lowercase and all-uppercase hex are accepted; mixed case must carry a correct
    EIP-55 checksum.
    """
    if not isinstance(text, str) or len(text) != 42 or not text.startswith("0x"):
        raise ValueError("an address is 0x followed by 40 hex digits")
    try:
        raw = bytes.fromhex(text[2:])
    except ValueError:
        raise ValueError("an address is 0x followed by 40 hex digits") from None
    checksummed = checksum_address(raw)
    body = text[2:]
    if body not in (body.lower(), body.upper()) and text != checksummed:
        raise ValueError("address has a bad EIP-55 checksum")
    return checksummed


class SigningKey:
    """A secp256k1 private key that stays in this process.

    There is deliberately no way to export the secret: no property, no serialisation,
    no pickling. ``from_secret`` exists for known-answer tests.
    """

    __slots__ = ("_key", "address", "public_key")

    def __init__(self, key: coincurve.PrivateKey) -> None:
        self._key = key
        self.public_key: bytes = key.public_key.format(compressed=False)
        self.address: str = address_from_public_key(self.public_key)

    @classmethod
    def generate(cls) -> SigningKey:
        return cls(coincurve.PrivateKey())

    @classmethod
    def from_secret(cls, secret: bytes) -> SigningKey:
        if len(secret) != 32:
            raise ValueError("a secp256k1 secret is 32 bytes")
        return cls(coincurve.PrivateKey(secret))

    def sign_digest(self, digest: bytes) -> bytes:
        """Sign a 32-byte digest; return a canonical ``r ‖ s ‖ v`` (low-s, v == 27)."""
        if len(digest) != 32:
            raise ValueError("the digest must be 32 bytes")
        extra = ffi.NULL
        for attempt in range(_MAX_GRIND):
            if attempt:
                extra = ffi.new("unsigned char[32]", attempt.to_bytes(32, "little"))
            sig = self._key.sign_recoverable(digest, hasher=None, custom_nonce=(ffi.NULL, extra))
            if sig[64] == 0:
                return sig[:64] + bytes([CANONICAL_V])
        raise RuntimeError("no even-R signature within the grinding bound")  # pragma: no cover

    def __repr__(self) -> str:
        return f"SigningKey(address={self.address})"

    def __reduce__(self) -> str | tuple[object, ...]:
        raise TypeError("a SigningKey cannot be serialised")


def check_canonical(signature: bytes) -> tuple[int, int]:
    """Check length, ranges, low-s and v == 27; return ``(r, s)``."""
    if len(signature) != SIGNATURE_LENGTH:
        raise SignatureInvalid(f"a signature is {SIGNATURE_LENGTH} bytes, got {len(signature)}")
    if signature[64] != CANONICAL_V:
        raise SignatureInvalid(f"signature v must be {CANONICAL_V}, got {signature[64]}")
    r = int.from_bytes(signature[:32], "big")
    s = int.from_bytes(signature[32:64], "big")
    if not 0 < r < SECP256K1_N or not 0 < s < SECP256K1_N:
        raise SignatureInvalid("signature r or s out of range")
    if s > _HALF_N:
        raise SignatureInvalid("signature is not in low-s form")
    return r, s


def recover_public_key(digest: bytes, signature: bytes) -> bytes:
    """Recover the uncompressed public key that signed ``digest`` (canonical signatures only)."""
    check_canonical(signature)
    try:
        key = coincurve.PublicKey.from_signature_and_message(
            signature[:64] + b"\x00", digest, hasher=None
        )
    except Exception as exc:  # coincurve raises a bare Exception for points off the curve
        raise SignatureInvalid(f"no public key recovers from this signature: {exc}") from exc
    return bytes(key.format(compressed=False))


def recover_address(digest: bytes, signature: bytes) -> str:
    """The checksummed address whose key signed ``digest`` (what ``ecrecover`` returns)."""
    return address_from_public_key(recover_public_key(digest, signature))


class PublicKeyVerifier:
    """Verifies canonical signatures by one known key.

    For canonical signatures this is equivalent to ``recover_address(digest, sig) ==
    self.address``: the signer only ever emits even-R (v == 27), low-s signatures, so a
    different valid ``(r, s)`` for this key would be an ECDSA forgery. It is about a
    fifth cheaper than a recovery, because it skips the square root and the extra
    allocations. ``docs/spec/receipt-v1.md`` gives the argument in full.
    """

    __slots__ = ("_point", "address", "public_key")

    def __init__(self, public_key: bytes) -> None:
        key = coincurve.PublicKey(public_key)
        self._point = key.public_key  # libsecp256k1's parsed point
        self.public_key: bytes = key.format(compressed=False)
        self.address = address_from_public_key(self.public_key)

    def verify(self, digest: bytes, signature: bytes) -> None:
        """Raise :class:`SignatureInvalid` unless ``signature`` is this key's over ``digest``.

        libsecp256k1 itself rejects r or s outside [1, n-1] and high s, so the explicit
        checks of :func:`check_canonical` only run to explain a failure.
        """
        if len(digest) != 32:
            raise ValueError("the digest must be 32 bytes")
        if len(signature) == SIGNATURE_LENGTH and signature[64] == CANONICAL_V:
            parsed = ffi.new("secp256k1_ecdsa_signature *")
            ctx = GLOBAL_CONTEXT.ctx
            if lib.secp256k1_ecdsa_signature_parse_compact(
                ctx, parsed, signature[:64]
            ) and lib.secp256k1_ecdsa_verify(ctx, parsed, digest, self._point):
                return
        check_canonical(signature)  # raises with the precise reason when it is one of these
        raise SignatureInvalid(f"signature does not verify for {self.address}")
