"""Client of the ``TranscriptAnchor`` contract: submit signed checkpoints, read them back."""

from __future__ import annotations

from typing import TYPE_CHECKING

from transcript.checkpoint import SignedCheckpoint
from verifier.anchor.bound import BoundContract
from verifier.anchor.records import AnchoredCheckpoint, Anchoring, ChainHead

if TYPE_CHECKING:
    from web3 import Web3

    from verifier.anchor.rpc import RetryPolicy
    from verifier.anchor.tx import TransactionSender

NAME = "TranscriptAnchor"
EVENT = "CheckpointAnchored"


class AnchorClient:
    """The anchor at ``address``. Submitting needs a ``sender`` (any funded account: the
    enclave's signature, not the sender, is what authorises a checkpoint)."""

    def __init__(
        self,
        w3: Web3,
        address: str,
        *,
        sender: TransactionSender | None = None,
        policy: RetryPolicy | None = None,
    ) -> None:
        self._c = BoundContract(NAME, w3, address, sender=sender, policy=policy)

    @property
    def address(self) -> str:
        return self._c.address

    @property
    def contract(self) -> BoundContract:
        """The raw contract, for calls this class does not wrap (tests send malformed ones)."""
        return self._c

    def registry(self) -> str:
        return str(self._c.read("registry"))

    def submit(self, signed: SignedCheckpoint) -> Anchoring:
        """Anchor ``signed``: one transaction, whatever the checkpoint's size.

        The contract checks everything (signature, registration, contiguity); a refusal is
        :class:`~verifier.anchor.errors.ContractRejected` naming its error, raised before
        anything is sent.
        """
        cp = signed.checkpoint
        sent = self._c.write(
            "submitCheckpoint",
            cp.signer,
            cp.first_seq,
            cp.last_seq,
            cp.root,
            cp.prev,
            cp.keyset,
            cp.time_ms,
            signed.signature,
        )
        (event,) = self._c.contract.events[EVENT]().process_receipt(sent.receipt)
        return Anchoring(
            index=int(event["args"]["index"]),
            digest=bytes(event["args"]["digest"]),
            tx_hash=sent.tx_hash,
            block_number=sent.block_number,
            gas_used=sent.gas_used,
        )

    def head(self, signer: str) -> ChainHead:
        last_seq, count, last_digest = self._c.read("head", signer)
        return ChainHead(signer, int(last_seq), int(count), bytes(last_digest))

    def checkpoint_at(self, signer: str, index: int) -> AnchoredCheckpoint:
        """The ``index``-th (0-based) checkpoint of ``signer``; ContractRejected if none."""
        root, first_seq, last_seq, block = self._c.read("checkpointAt", signer, index)
        return AnchoredCheckpoint(
            signer, index, bytes(root), int(first_seq), int(last_seq), int(block)
        )

    def checkpoint_by_root(self, root: bytes) -> AnchoredCheckpoint | None:
        """The first anchoring of ``root``, or None if it was never anchored."""
        signer, index, first_seq, last_seq, block = self._c.read("checkpointByRoot", root)
        if int(signer, 16) == 0:
            return None
        return AnchoredCheckpoint(
            str(signer), int(index), root, int(first_seq), int(last_seq), int(block)
        )

    def signers(self) -> list[str]:
        """Every signer that has anchored, in order of its first checkpoint."""
        count = int(self._c.read("signerCount"))
        return [str(self._c.read("signerAt", i)) for i in range(count)]

    def receipt_signer(self, body_hash: bytes, signature: bytes) -> str:
        """What the contract's ``ecrecover`` makes of a receipt signature (a pure call)."""
        return str(self._c.read("receiptSigner", body_hash, signature))
