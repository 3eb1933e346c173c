"""The anchor client: deploy the contracts, register enclaves, anchor checkpoints, and verify
a receipt's inclusion against any EVM chain.

Everything that talks to a chain uses web3, which takes most of a second to import, so the
names below are loaded on first use (PEP 562): importing :mod:`verifier.anchor` stays cheap,
and a CLI pays for web3 only when a subcommand needs it.

Typical use::

    w3 = connect(None)                                  # embedded chain; or an RPC URL
    sender = TransactionSender(w3, funded_account(w3))  # a funded LocalAccount on real chains
    deployment = deploy(sender)
    RegistryClient(w3, deployment.registry, sender=sender).register(
        enclave_address, measurement=measurement_id(...), evidence_hash=sha256(evidence))
    anchoring = AnchorClient(w3, deployment.anchor, sender=sender).submit(signed_checkpoint)
    verify_anchored_inclusion(w3, anchor=deployment.anchor, proof=InclusionProof(...))

``docs/spec/anchor-contracts.md`` specifies the contracts and every check.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from verifier.anchor.client import AnchorClient
    from verifier.anchor.deploy import deploy
    from verifier.anchor.devchain import Anvil, DevChainError, find_anvil, funded_account
    from verifier.anchor.errors import (
        ChainUnavailable,
        ContractRejected,
        InclusionInvalid,
        MalformedInclusionProof,
    )
    from verifier.anchor.history import AnchoredEntry, AnchoredHistory, anchored_history
    from verifier.anchor.inclusion import AnchoredInclusion, verify_anchored_inclusion
    from verifier.anchor.measurement import measurement_id
    from verifier.anchor.proof import InclusionProof
    from verifier.anchor.records import (
        AnchoredCheckpoint,
        Anchoring,
        ChainHead,
        Deployment,
        EnclaveRecord,
    )
    from verifier.anchor.registry import RegistryClient
    from verifier.anchor.rpc import EMBEDDED, RetryPolicy, connect
    from verifier.anchor.tx import Sent, TransactionSender

_WHERE = {
    "AnchorClient": "client",
    "deploy": "deploy",
    "Anvil": "devchain",
    "DevChainError": "devchain",
    "find_anvil": "devchain",
    "funded_account": "devchain",
    "ChainUnavailable": "errors",
    "ContractRejected": "errors",
    "InclusionInvalid": "errors",
    "MalformedInclusionProof": "errors",
    "AnchoredEntry": "history",
    "AnchoredHistory": "history",
    "anchored_history": "history",
    "AnchoredInclusion": "inclusion",
    "verify_anchored_inclusion": "inclusion",
    "measurement_id": "measurement",
    "InclusionProof": "proof",
    "AnchoredCheckpoint": "records",
    "Anchoring": "records",
    "ChainHead": "records",
    "Deployment": "records",
    "EnclaveRecord": "records",
    "RegistryClient": "registry",
    "EMBEDDED": "rpc",
    "RetryPolicy": "rpc",
    "connect": "rpc",
    "Sent": "tx",
    "TransactionSender": "tx",
}

__all__ = [
    "EMBEDDED",
    "AnchorClient",
    "AnchoredCheckpoint",
    "AnchoredEntry",
    "AnchoredHistory",
    "AnchoredInclusion",
    "Anchoring",
    "Anvil",
    "ChainHead",
    "ChainUnavailable",
    "ContractRejected",
    "Deployment",
    "DevChainError",
    "EnclaveRecord",
    "InclusionInvalid",
    "InclusionProof",
    "MalformedInclusionProof",
    "RegistryClient",
    "RetryPolicy",
    "Sent",
    "TransactionSender",
    "anchored_history",
    "connect",
    "deploy",
    "find_anvil",
    "funded_account",
    "measurement_id",
    "verify_anchored_inclusion",
]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
    globals()[name] = value
    return value
