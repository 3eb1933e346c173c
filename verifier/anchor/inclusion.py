"""Verifying that a receipt is in a checkpoint that the anchor contract accepted on chain.

Given an :class:`InclusionProof` and the anchor address the verifier trusts, against any RPC:

1. ``anchor.signature``  the checkpoint is signed by the signer it names (offline);
2. ``anchor.merkle``     the receipt id is leaf ``seq - first_seq`` of the checkpoint's root;
3. ``anchor.code``       the code at the anchor address, and at the registry it is bound to,
                         is the shipped ``TranscriptAnchor``/``EnclaveRegistry`` runtime code;
4. ``anchor.transaction`` the transaction exists, succeeded, and its block is canonical;
5. ``anchor.event``      it carries the anchor's ``CheckpointAnchored`` event for exactly this
                         checkpoint (its digest covers every signed field);
6. ``anchor.storage``    the anchor's storage holds the checkpoint at that index of the
                         signer's chain, recorded in that very block;
7. ``anchor.confirmations`` the block is at least ``min_confirmations`` deep.

Failing 1-6 is :class:`InclusionInvalid` (checked, and false). An unreachable RPC, or a block
not yet deep enough, is :class:`ChainUnavailable` (no verdict yet).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hexbytes import HexBytes
from web3 import Web3
from web3.exceptions import TransactionNotFound
from web3.logs import DISCARD

from transcript.errors import MalformedProof, SignatureInvalid
from transcript.merkle import verify_inclusion
from verifier.anchor.client import EVENT, AnchorClient
from verifier.anchor.code import runtime_code_matches
from verifier.anchor.errors import ChainUnavailable, InclusionInvalid, MalformedInclusionProof
from verifier.anchor.proof import InclusionProof
from verifier.anchor.records import EnclaveRecord
from verifier.anchor.registry import RegistryClient
from verifier.anchor.rpc import RetryPolicy, retrying
from verifier.claims import Check


@dataclass(frozen=True, slots=True)
class AnchoredInclusion:
    """What an inclusion check established, with the record of every check that passed.

    ``enclave`` is the registry's record of the signer *now*. The anchor accepted the
    checkpoint only while the signer was active; whether receipts of an enclave revoked
    since then still count is the caller's policy, so it is reported, not judged.
    """

    receipt_id: bytes
    seq: int
    signer: str
    chain_id: int
    anchor: str
    registry: str
    tx_hash: bytes
    block_number: int
    block_hash: bytes
    checkpoint_index: int
    confirmations: int
    enclave: EnclaveRecord
    checks: tuple[Check, ...]


def verify_anchored_inclusion(
    w3: Web3,
    *,
    anchor: str,
    proof: InclusionProof,
    min_confirmations: int = 1,
    policy: RetryPolicy | None = None,
) -> AnchoredInclusion:
    """Check ``proof`` against the chain behind ``w3`` and the anchor at ``anchor``."""
    if min_confirmations < 1:
        raise ValueError("min_confirmations is at least 1 (the block that holds it)")
    policy = policy or RetryPolicy()
    checks = [_check_signature(proof), _check_merkle(proof)]
    client = AnchorClient(w3, anchor, policy=policy)
    chain_id = int(retrying("reading the chain id", lambda: w3.eth.chain_id, policy))
    _require_code(w3, "TranscriptAnchor", client.address, policy)
    registry = client.registry()
    _require_code(w3, "EnclaveRegistry", registry, policy)
    checks.append(
        Check(
            "anchor.code",
            f"{client.address} runs TranscriptAnchor, bound to EnclaveRegistry {registry}",
        )
    )
    receipt, block_hash, check = _check_transaction(w3, proof.tx_hash, chain_id, policy)
    checks.append(check)
    index, check = _check_event(client, receipt, proof)
    checks.append(check)
    checks.append(_check_storage(client, proof, index, int(receipt["blockNumber"])))
    latest = int(retrying("reading the block number", lambda: w3.eth.block_number, policy))
    confirmations = latest - int(receipt["blockNumber"]) + 1
    if confirmations < min_confirmations:
        raise ChainUnavailable(
            "anchor.confirmations",
            f"block {receipt['blockNumber']} has {confirmations} confirmations, "
            f"{min_confirmations} are required; ask again later",
        )
    checks.append(
        Check("anchor.confirmations", f"{confirmations} confirmations (>= {min_confirmations})")
    )
    return AnchoredInclusion(
        receipt_id=proof.receipt_id,
        seq=proof.seq,
        signer=proof.checkpoint.checkpoint.signer,
        chain_id=chain_id,
        anchor=client.address,
        registry=registry,
        tx_hash=proof.tx_hash,
        block_number=int(receipt["blockNumber"]),
        block_hash=block_hash,
        checkpoint_index=index,
        confirmations=confirmations,
        enclave=RegistryClient(w3, registry, policy=policy).enclave(
            proof.checkpoint.checkpoint.signer
        ),
        checks=tuple(checks),
    )


def _check_signature(proof: InclusionProof) -> Check:
    cp = proof.checkpoint.checkpoint
    try:
        proof.checkpoint.verify()
    except SignatureInvalid as exc:
        raise InclusionInvalid("anchor.signature", str(exc)) from None
    detail = f"checkpoint {cp.first_seq}..{cp.last_seq} is signed by {cp.signer}"
    return Check("anchor.signature", detail)


def _check_merkle(proof: InclusionProof) -> Check:
    cp = proof.checkpoint.checkpoint
    try:
        included = verify_inclusion(
            proof.receipt_id, proof.leaf_index, cp.size, proof.path, cp.root
        )
    except MalformedProof as exc:
        raise MalformedInclusionProof("anchor.merkle", str(exc)) from None
    if not included:
        raise InclusionInvalid(
            "anchor.merkle",
            f"receipt {proof.receipt_id.hex()} is not leaf {proof.leaf_index} of root "
            f"{cp.root.hex()}",
        )
    return Check(
        "anchor.merkle",
        f"receipt {proof.receipt_id.hex()} (seq {proof.seq}) is in root {cp.root.hex()}",
    )


def _require_code(w3: Web3, name: str, address: str, policy: RetryPolicy) -> None:
    if not runtime_code_matches(name, _code_at(w3, address, policy)):
        raise InclusionInvalid("anchor.code", f"the code at {address} is not veritee's {name}")


def _code_at(w3: Web3, address: str, policy: RetryPolicy) -> bytes:
    checksummed = Web3.to_checksum_address(address)
    return bytes(
        retrying(f"reading code at {address}", lambda: w3.eth.get_code(checksummed), policy)
    )


def _check_transaction(
    w3: Web3, tx_hash: bytes, chain_id: int, policy: RetryPolicy
) -> tuple[Any, bytes, Check]:
    try:
        receipt = retrying(
            "reading the transaction receipt",
            lambda: w3.eth.get_transaction_receipt(HexBytes(tx_hash)),
            policy,
        )
    except TransactionNotFound:
        raise InclusionInvalid(
            "anchor.transaction",
            f"transaction 0x{tx_hash.hex()} is not mined on chain {chain_id}",
        ) from None
    if receipt["status"] != 1:
        raise InclusionInvalid("anchor.transaction", f"transaction 0x{tx_hash.hex()} reverted")
    number = int(receipt["blockNumber"])
    block = retrying(f"reading block {number}", lambda: w3.eth.get_block(number), policy)
    if bytes(block["hash"]) != bytes(receipt["blockHash"]):
        raise InclusionInvalid(
            "anchor.transaction",
            f"transaction 0x{tx_hash.hex()} is in block {number} of a chain that was reorganised",
        )
    detail = f"transaction 0x{tx_hash.hex()} succeeded in block {number} of chain {chain_id}"
    return receipt, bytes(block["hash"]), Check("anchor.transaction", detail)


def _check_event(client: AnchorClient, receipt: Any, proof: InclusionProof) -> tuple[int, Check]:
    cp = proof.checkpoint.checkpoint
    digest = proof.checkpoint.hash
    events = client.contract.contract.events[EVENT]().process_receipt(receipt, errors=DISCARD)
    for event in events:
        args = event["args"]
        if (
            event["address"] == client.address
            and args["signer"] == cp.signer
            and bytes(args["root"]) == cp.root
            and bytes(args["digest"]) == digest
            and args["firstSeq"] == cp.first_seq
            and args["lastSeq"] == cp.last_seq
        ):
            index = int(args["index"])
            detail = f"it anchored checkpoint {digest.hex()} as #{index} of {cp.signer}"
            return index, Check("anchor.event", detail)
    raise InclusionInvalid(
        "anchor.event",
        f"transaction 0x{proof.tx_hash.hex()} did not anchor checkpoint {digest.hex()} "
        f"at {client.address}",
    )


def _check_storage(client: AnchorClient, proof: InclusionProof, index: int, block: int) -> Check:
    cp = proof.checkpoint.checkpoint
    stored = client.checkpoint_at(cp.signer, index)
    if (stored.root, stored.first_seq, stored.last_seq, stored.block_number) != (
        cp.root,
        cp.first_seq,
        cp.last_seq,
        block,
    ):
        raise InclusionInvalid(
            "anchor.storage",
            f"the anchor stores {stored} as #{index} of {cp.signer}, not this checkpoint",
        )
    return Check(
        "anchor.storage",
        f"the anchor holds root {cp.root.hex()} for seq {cp.first_seq}..{cp.last_seq} "
        f"of {cp.signer}, anchored in block {block}",
    )
