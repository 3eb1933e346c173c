"""The receipt format: canonical JSON, signing, receipts, hash chains, Merkle trees, checkpoints.

Pure: no I/O, and nothing else of veritee is imported here.
"""

from transcript.chain import ChainReport, check_chain
from transcript.checkpoint import Checkpoint, SignedCheckpoint, build_checkpoint
from transcript.errors import (
    MalformedCheckpoint,
    MalformedProof,
    MalformedReceipt,
    SignatureInvalid,
    TranscriptError,
)
from transcript.keys import PublicKeyVerifier, SigningKey, recover_address
from transcript.merkle import MerkleTree, merkle_root, verify_inclusion
from transcript.receipt import (
    Receipt,
    ReceiptBody,
    Upstream,
    parse_receipt,
    parse_receipt_header,
    sign_receipt,
)

__all__ = [
    "ChainReport",
    "Checkpoint",
    "MalformedCheckpoint",
    "MalformedProof",
    "MalformedReceipt",
    "MerkleTree",
    "PublicKeyVerifier",
    "Receipt",
    "ReceiptBody",
    "SignatureInvalid",
    "SignedCheckpoint",
    "SigningKey",
    "TranscriptError",
    "Upstream",
    "build_checkpoint",
    "check_chain",
    "merkle_root",
    "parse_receipt",
    "parse_receipt_header",
    "recover_address",
    "sign_receipt",
    "verify_inclusion",
]
