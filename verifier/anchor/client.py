"""Client of the ``TranscriptAnchor`` contract: submit signed checkpoints, read them back."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hexbytes import HexBytes
from web3.logs import DISCARD

from transcript.checkpoint import SignedCheckpoint
from verifier.anchor.bound import ContractClient
from verifier.anchor.records import AnchoredCheckpoint, Anchoring, ChainHead
from verifier.anchor.rpc import retrying

if TYPE_CHECKING:
    from verifier.anchor.tx import OnSigned

EVENT = "CheckpointAnchored"


class AnchorClient(ContractClient):
    """The anchor at ``address``. Submitting needs a ``sender`` (any funded account: the
    enclave's signature, not the sender, is what authorises a checkpoint)."""

    NAME = "TranscriptAnchor"

    def registry(self) -> str:
        return str(self._c.read("registry"))

    def submit(self, signed: SignedCheckpoint) -> Anchoring:
        """Anchor ``signed``: one transaction, whatever the checkpoint's size.

        The contract checks everything (signature, registration, contiguity); a refusal is
        :class:`~verifier.anchor.errors.ContractRejected` naming its error, raised before
        anything is sent.
        """
        return self.confirm(signed, self.send(signed))

    def send(self, signed: SignedCheckpoint, *, on_signed: OnSigned | None = None) -> bytes:
        """The first half of :meth:`submit`: estimate (the contract's checks), sign and send.

        Returns the transaction hash without waiting for it to be mined. ``on_signed`` is
        :meth:`TransactionSender.send`'s hook: a publisher records the hash there before
        the transaction leaves, so a crash never loses track of one.
        """
        if self._c.sender is None:
            raise ValueError("this TranscriptAnchor client is read-only: give it a sender")
        return self._c.sender.send(
            contract=self.NAME, to=self.address, data=self._calldata(signed), on_signed=on_signed
        )

    def confirm(self, signed: SignedCheckpoint, tx_hash: bytes) -> Anchoring:
        """The second half of :meth:`submit`: wait for ``tx_hash`` and read its anchoring."""
        if self._c.sender is None:
            raise ValueError("this TranscriptAnchor client is read-only: give it a sender")
        sent = self._c.sender.wait(self.NAME, tx_hash)
        events = self._c.contract.events[EVENT]().process_receipt(sent.receipt, errors=DISCARD)
        for event in events:
            if event["address"] == self.address and bytes(event["args"]["digest"]) == signed.hash:
                return Anchoring(
                    index=int(event["args"]["index"]),
                    digest=signed.hash,
                    tx_hash=sent.tx_hash,
                    block_number=sent.block_number,
                    gas_used=sent.gas_used,
                )
        raise ValueError(f"transaction 0x{tx_hash.hex()} did not anchor this checkpoint")

    def _calldata(self, signed: SignedCheckpoint) -> bytes:
        cp = signed.checkpoint
        args: list[Any] = [
            cp.signer,
            cp.first_seq,
            cp.last_seq,
            cp.root,
            cp.prev,
            cp.keyset,
            cp.time_ms,
            signed.signature,
        ]
        data = self._c.contract.encode_abi("submitCheckpoint", args=args)
        return bytes.fromhex(data[2:])

    def find(self, signed: SignedCheckpoint) -> Anchoring | None:
        """The anchoring of exactly ``signed``, if it is on chain (None otherwise).

        For a publisher that lost track, e.g. after a timeout while the transaction was
        still mined: it locates the checkpoint in its signer's chain by binary search on
        ``firstSeq`` (never trusting the root index, which a copied root could occupy), then
        reads the transaction from the ``CheckpointAnchored`` event of that block.
        """
        cp = signed.checkpoint
        index = self._index_of(cp.signer, cp.first_seq)
        if index is None:
            return None
        stored = self.checkpoint_at(cp.signer, index)
        if (stored.root, stored.last_seq) != (cp.root, cp.last_seq):
            return None
        events = retrying(
            "reading anchoring events",
            lambda: self._c.contract.events[EVENT]().get_logs(
                argument_filters={"signer": cp.signer, "root": cp.root},
                from_block=stored.block_number,
                to_block=stored.block_number,
            ),
            self._c.policy,
        )
        hashes = [
            bytes(e["transactionHash"])
            for e in events
            if bytes(e["args"]["digest"]) == signed.hash and e["address"] == self.address
        ]
        if not hashes:
            return None
        receipt = retrying(
            "reading a transaction receipt",
            lambda: self._c.w3.eth.get_transaction_receipt(HexBytes(hashes[0])),
            self._c.policy,
        )
        return Anchoring(
            index=index,
            digest=signed.hash,
            tx_hash=hashes[0],
            block_number=stored.block_number,
            gas_used=int(receipt["gasUsed"]),
        )

    def _index_of(self, signer: str, first_seq: int) -> int | None:
        low, high = 0, self.head(signer).count - 1
        while low <= high:
            middle = (low + high) // 2
            found = self.checkpoint_at(signer, middle).first_seq
            if found == first_seq:
                return middle
            low, high = (middle + 1, high) if found < first_seq else (low, middle - 1)
        return None

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
