"""What the anchor chain says about a set of signers, read once for a whole log.

:func:`read_chain` checks that the code at the anchor address (and at the registry it is
bound to) is veritee's, then reads, for each signer, its anchored checkpoints
(:func:`verifier.anchor.history.anchored_history`) and its registry record. The number of
RPC calls depends on the number of signers, never on the number of receipts.

Only checkpoints at least ``min_confirmations`` deep count: the history is read at block
``latest - min_confirmations + 1``, so a checkpoint anchored since is "not anchored yet".
Which chain and which anchor to ask is the caller's trusted configuration (``--rpc``,
``--contract``), never something a log or a bundle says.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from web3 import Web3

from verifier.anchor.client import AnchorClient
from verifier.anchor.code import runtime_code_matches
from verifier.anchor.errors import ChainUnavailable, InclusionInvalid
from verifier.anchor.history import AnchoredEntry, AnchoredHistory, anchored_history
from verifier.anchor.records import EnclaveRecord
from verifier.anchor.registry import RegistryClient
from verifier.anchor.rpc import RetryPolicy, retrying
from verifier.transparency.coverage import Range


@dataclass(frozen=True)
class ChainView:
    """Each signer's anchored history and registry record, as of ``at_block``."""

    chain_id: int
    anchor: str
    registry: str
    at_block: int
    latest_block: int
    histories: Mapping[str, AnchoredHistory]
    enclaves: Mapping[str, EnclaveRecord]

    def ranges(self, signer: str) -> list[Range]:
        history = self.histories.get(signer)
        if history is None:
            return []
        return [Range(e.first_seq, e.last_seq, e.root, label(e)) for e in history.entries]

    def entry(self, signer: str, first_seq: int) -> AnchoredEntry | None:
        history = self.histories.get(signer)
        found = history.covering(first_seq) if history else None
        return found if found is not None and found.first_seq == first_seq else None


def label(entry: AnchoredEntry) -> str:
    return (
        f"checkpoint #{entry.index} (seq {entry.first_seq}..{entry.last_seq}) anchored in tx "
        f"0x{entry.tx_hash.hex()} (block {entry.block_number})"
    )


def read_chain(
    w3: Web3,
    *,
    anchor: str,
    signers: Iterable[str],
    from_block: int = 0,
    min_confirmations: int = 1,
    policy: RetryPolicy | None = None,
) -> ChainView:
    """Read what the anchor at ``anchor`` holds for ``signers`` (code checked first)."""
    if min_confirmations < 1:
        raise ValueError("min_confirmations is at least 1")
    policy = policy or RetryPolicy()
    client = AnchorClient(w3, anchor, policy=policy)
    require_code(w3, "TranscriptAnchor", client.address, policy)
    registry = client.registry()
    require_code(w3, "EnclaveRegistry", registry, policy)
    chain_id = int(retrying("reading the chain id", lambda: w3.eth.chain_id, policy))
    latest = int(retrying("reading the block number", lambda: w3.eth.block_number, policy))
    at_block = latest - min_confirmations + 1
    if at_block < 0:
        raise ChainUnavailable(
            "anchor.confirmations", f"the chain has {latest + 1} blocks, fewer than required"
        )
    registry_client = RegistryClient(w3, registry, policy=policy)
    histories: dict[str, AnchoredHistory] = {}
    enclaves: dict[str, EnclaveRecord] = {}
    for signer in sorted(set(signers)):
        histories[signer] = anchored_history(
            client, signer, from_block=from_block, at_block=at_block
        )
        enclaves[signer] = registry_client.enclave(signer)
    return ChainView(
        chain_id=chain_id,
        anchor=client.address,
        registry=registry,
        at_block=at_block,
        latest_block=latest,
        histories=histories,
        enclaves=enclaves,
    )


def require_code(w3: Web3, name: str, address: str, policy: RetryPolicy) -> None:
    checksummed = Web3.to_checksum_address(address)
    code = bytes(
        retrying(f"reading code at {address}", lambda: w3.eth.get_code(checksummed), policy)
    )
    if not runtime_code_matches(name, code):
        raise InclusionInvalid("anchor.code", f"the code at {address} is not veritee's {name}")
