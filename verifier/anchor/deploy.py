"""Deploying a registry and its anchor."""

from __future__ import annotations

from typing import TYPE_CHECKING

from contracts import load_artifact
from verifier.anchor.records import Deployment

if TYPE_CHECKING:
    from verifier.anchor.tx import TransactionSender


def _deploy(sender: TransactionSender, name: str, args: list[object]) -> tuple[str, int]:
    artifact = load_artifact(name)
    factory = sender.w3.eth.contract(abi=artifact["abi"], bytecode=artifact["bytecode"])
    data = factory.constructor(*args).data_in_transaction
    sent = sender.transact(contract=name, to=None, data=bytes.fromhex(data[2:]))
    address = sent.contract_address
    if address is None:  # pragma: no cover - a successful creation always has one
        raise RuntimeError(f"deploying {name} produced no contract address")
    return address, sent.block_number


def deploy(sender: TransactionSender, *, owner: str | None = None) -> Deployment:
    """Deploy an ``EnclaveRegistry`` owned by ``owner`` (default: the sender) and a
    ``TranscriptAnchor`` bound to it. Two transactions."""
    registry, _ = _deploy(sender, "EnclaveRegistry", [owner or sender.address])
    anchor, block = _deploy(sender, "TranscriptAnchor", [registry])
    return Deployment(
        chain_id=int(sender.w3.eth.chain_id), registry=registry, anchor=anchor, block_number=block
    )
