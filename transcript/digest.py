"""The 32-byte digests that enclaves sign (EIP-712 typed data, no chain binding).

Both receipts and checkpoints are EIP-712 structs under one domain,
``EIP712Domain(string name,string version)`` with name ``veritee`` and version ``1``.
There is no ``chainId`` or ``verifyingContract``: a receipt or checkpoint means the same
thing on every chain, and the anchor contract enforces sequencing per chain itself.
The typehashes differ, so a receipt signature can never pass as a checkpoint signature.
See ``docs/spec/receipt-v1.md`` and ``docs/spec/checkpoint-v1.md``.
"""

from __future__ import annotations

from transcript.keccak import keccak256

DOMAIN_TYPEHASH = keccak256(b"EIP712Domain(string name,string version)")
DOMAIN_SEPARATOR = keccak256(DOMAIN_TYPEHASH + keccak256(b"veritee") + keccak256(b"1"))
RECEIPT_TYPEHASH = keccak256(b"Receipt(bytes32 bodyHash)")
CHECKPOINT_TYPEHASH = keccak256(
    b"Checkpoint(address signer,uint64 firstSeq,uint64 lastSeq,bytes32 root,"
    b"bytes32 prev,bytes32 keysetHash,uint64 timeMs)"
)
_PREFIX = b"\x19\x01" + DOMAIN_SEPARATOR


def eip712_digest(struct_hash: bytes) -> bytes:
    """``keccak256(0x19 0x01 ‖ DOMAIN_SEPARATOR ‖ structHash)``."""
    return keccak256(_PREFIX + struct_hash)


def receipt_digest(body_hash: bytes) -> bytes:
    """The digest a receipt signature covers, from the 32-byte body hash alone."""
    return keccak256(_PREFIX + keccak256(RECEIPT_TYPEHASH + body_hash))


def abi_word(value: int) -> bytes:
    """A uint256 ABI word (big-endian, 32 bytes)."""
    return value.to_bytes(32, "big")


def abi_address(address20: bytes) -> bytes:
    """An address ABI word (left-padded 20 bytes)."""
    return b"\x00" * 12 + address20
