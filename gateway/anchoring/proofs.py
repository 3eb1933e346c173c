"""Inclusion proofs from the store: ``GET /v1/receipts/{id}/proof``.

The proof of a receipt is its Merkle path in the checkpoint that covers its seq, the signed
checkpoint, and (once the publisher has anchored it) the transaction and block
(``veritee.inclusion.v1``, ``docs/spec/anchor-contracts.md``). The path is computed from the
store's own receipts of the checkpoint's range; the root they give is compared with the
enclave-signed root before anything is served, so a store that lost or changed a receipt
says so instead of serving a proof that cannot verify. Trees are cached per checkpoint.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, Protocol

from gateway.errors import ApiError
from gateway.store.base import AnchorStore, CheckpointStore, ReceiptStore, StoredReceipt
from transcript.checkpoint import SignedCheckpoint
from transcript.merkle import MerkleTree, root_from_proof
from verifier.anchor.proof import InclusionProof

CACHED_TREES = 64


class ProofStore(ReceiptStore, CheckpointStore, AnchorStore, Protocol):
    """What proofs are made from."""


def _unavailable(message: str) -> ApiError:
    return ApiError(409, message, code="proof_unavailable")


class Proofs:
    """Builds proof answers. ``contract``: the configured anchor (None: not anchoring)."""

    def __init__(self, store: ProofStore, contract: str | None) -> None:
        self._store = store
        self._contract = contract
        self._trees: OrderedDict[bytes, MerkleTree] = OrderedDict()

    async def answer(self, receipt: StoredReceipt) -> dict[str, Any]:
        if receipt.signer is None or receipt.seq is None or receipt.verdict == "malformed":
            raise _unavailable("a malformed receipt has no place in any checkpoint")
        stored = await self._store.checkpoint_covering(receipt.signer, receipt.seq)
        if stored is None:
            return _not_anchored(
                receipt,
                "not_checkpointed",
                f"not anchored yet: no checkpoint of {receipt.signer} covers seq {receipt.seq} "
                "yet (an enclave cuts one every N receipts or T seconds)",
            )
        signed = stored.checkpoint
        cp = signed.checkpoint
        tree = await self._tree(signed)
        index = receipt.seq - cp.first_seq
        leaf = bytes.fromhex(receipt.id)
        path = tree.proof(index)
        if root_from_proof(leaf, index, tree.size, path) != cp.root:
            raise _unavailable(
                f"receipt {receipt.id} is not the receipt the enclave checkpointed at seq "
                f"{receipt.seq}"
            )
        merkle = {"checkpoint": signed.to_dict(), "path": [node.hex() for node in path]}
        record = None
        if self._contract is not None:
            record = await self._store.anchor_record(self._contract, cp.signer, cp.first_seq)
        if record is None or record.state != "confirmed" or record.tx_hash is None:
            state, message = _pending(signed, self._contract, record)
            return {**_not_anchored(receipt, state, message), **merkle}
        proof = InclusionProof(
            receipt_id=leaf,
            seq=receipt.seq,
            path=tuple(path),
            checkpoint=signed,
            tx_hash=bytes.fromhex(record.tx_hash),
        )
        return {
            "object": "receipt.proof",
            "receipt_id": receipt.id,
            "signer": receipt.signer,
            "seq": receipt.seq,
            "anchored": True,
            "state": "anchored",
            "message": (
                f"anchored: checkpoint seq {cp.first_seq}..{cp.last_seq} is #{record.index} of "
                f"{cp.signer} at {record.contract}, in transaction 0x{record.tx_hash} "
                f"(block {record.block_number})"
            ),
            **merkle,
            "proof": proof.to_dict(),
            "anchoring": {
                "contract": record.contract,
                "chain_id": record.chain_id,
                "tx_hash": record.tx_hash,
                "block_number": record.block_number,
                "checkpoint_index": record.index,
            },
        }

    async def _tree(self, signed: SignedCheckpoint) -> MerkleTree:
        cached = self._trees.get(signed.hash)
        if cached is not None:
            self._trees.move_to_end(signed.hash)
            return cached
        cp = signed.checkpoint
        rows = await self._store.receipts_by_seq(cp.signer, cp.first_seq, cp.last_seq)
        by_seq: dict[int, set[str]] = {}
        for row in rows:
            if row.seq is not None and row.verdict == "verified":
                by_seq.setdefault(row.seq, set()).add(row.id)
        missing = [s for s in range(cp.first_seq, cp.last_seq + 1) if s not in by_seq]
        if missing:
            raise _unavailable(
                f"the store lacks receipt(s) seq {_show(missing)} of checkpoint "
                f"{cp.first_seq}..{cp.last_seq}: no path can be computed"
            )
        forked = [s for s, ids in by_seq.items() if len(ids) > 1]
        if forked:
            raise _unavailable(f"the store holds several verified receipts for seq {_show(forked)}")
        ids = [bytes.fromhex(next(iter(by_seq[s]))) for s in range(cp.first_seq, cp.last_seq + 1)]
        tree = MerkleTree(ids)
        if tree.root != cp.root:
            raise _unavailable(
                f"the store's receipts seq {cp.first_seq}..{cp.last_seq} do not hash to the "
                "checkpoint's signed root"
            )
        self._trees[signed.hash] = tree
        if len(self._trees) > CACHED_TREES:
            self._trees.popitem(last=False)
        return tree


def _not_anchored(receipt: StoredReceipt, state: str, message: str) -> dict[str, Any]:
    return {
        "object": "receipt.proof",
        "receipt_id": receipt.id,
        "signer": receipt.signer,
        "seq": receipt.seq,
        "anchored": False,
        "state": state,
        "message": message,
        "checkpoint": None,
        "path": None,
        "proof": None,
        "anchoring": None,
    }


def _pending(signed: SignedCheckpoint, contract: str | None, record: Any) -> tuple[str, str]:
    cp = signed.checkpoint
    where = f"not anchored yet: checkpoint seq {cp.first_seq}..{cp.last_seq}"
    if contract is None:
        return "not_configured", f"{where} is signed, but this gateway anchors nowhere"
    if record is None:
        return "pending", f"{where} is waiting for the publisher"
    if record.state == "submitted":
        return "submitted", f"{where} was sent in transaction 0x{record.tx_hash}, not mined yet"
    if record.state == "waiting":
        return "waiting", f"{where} is refused for now: {record.error}"
    return "rejected", f"{where} was refused for good: {record.error}"


def _show(seqs: list[int]) -> str:
    shown = ", ".join(str(s) for s in seqs[:10])
    return shown + (f" and {len(seqs) - 10} more" if len(seqs) > 10 else "")
