"""The demo's chain: contracts deployed on it, enclaves registered, checkpoints anchored.

By default the chain is web3's embedded eth-tester (py-evm, in this process); with
``--chain anvil`` it is a real anvil node started for the demo. The demo deploys an
``EnclaveRegistry`` and a ``TranscriptAnchor``, then plays the operator: it registers each
enclave the gateway admitted (after verifying its evidence again) and runs the publisher
over the gateway's store, exactly as ``veritee anchor register`` and ``veritee anchor run``
would. Every chain call happens in the thread that calls :meth:`DemoChain.publish` (one
at a time: the embedded chain is not made for concurrent use).
"""

from __future__ import annotations

import asyncio
import threading
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any, Literal

from gateway.anchoring.chain import AnchorChain
from gateway.anchoring.publisher import Publisher, RoundReport
from gateway.anchoring.registrar import Registrar
from gateway.settings import Settings
from gateway.store import open_store
from gateway.trust import load_trust
from verifier.anchor import (
    AnchorClient,
    Anvil,
    Deployment,
    RegistryClient,
    TransactionSender,
    connect,
    deploy,
    funded_account,
)

ChainKind = Literal["embedded", "anvil"]


@dataclass
class DemoChain:
    kind: ChainKind
    w3: Any
    deployment: Deployment
    chain: AnchorChain
    registered: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def description(self) -> str:
        if self.kind == "anvil":
            return f"anvil at {self.w3.provider.endpoint_uri} (chain {self.deployment.chain_id})"
        return f"the embedded chain (eth-tester, chain {self.deployment.chain_id})"

    def publish(self, settings: Settings) -> RoundReport:
        """Register newly admitted enclaves, then one publisher round over the store."""
        with self.lock:
            return asyncio.run(self._publish(settings))

    async def _publish(self, settings: Settings) -> RoundReport:
        policy, roots = load_trust(settings.attestation)  # simulated SNP: no collateral
        async with open_store(settings.store) as store:
            registrar = Registrar(
                store=store, registry=self.chain.registry, policy=policy, roots=roots
            )
            report = await Publisher(store=store, chain=self.chain, registrar=registrar).round()
            self.registered += report.registered
            return report


def start_chain(kind: ChainKind, running: ExitStack) -> DemoChain:
    """Connect to (or start) the chain and deploy the contracts, owned by a fresh account."""
    if kind == "anvil":
        node = running.enter_context(Anvil())
        w3 = connect(node.url)
    else:
        w3 = connect(None)
    sender = TransactionSender(w3, funded_account(w3))
    deployment = deploy(sender)
    chain = AnchorChain(
        w3=w3,
        sender=sender,
        anchor=AnchorClient(w3, deployment.anchor, sender=sender),
        registry=RegistryClient(w3, deployment.registry, sender=sender),
        chain_id=deployment.chain_id,
        from_block=deployment.block_number,
    )
    return DemoChain(kind, w3, deployment, chain)
