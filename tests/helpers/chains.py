"""Chain fixtures: web3's in-process eth-tester, and a real anvil started on 127.0.0.1.

Loaded for every test session (``pytest_plugins`` in ``tests/conftest.py``); web3 is
imported only when one of these fixtures runs, so other tests do not pay for it.
``chain`` is parametrised, so every test that takes it (or ``env``) runs on both chains.
Both are session-scoped: tests share one chain per kind and keep apart by using fresh keys.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest

import verifier.anchor as anchoring  # its names, and so web3, load on first use
from tests.conftest import REPO, need

if TYPE_CHECKING:
    from web3 import Web3

    from verifier.anchor import (
        AnchorClient,
        Anvil,
        Deployment,
        RegistryClient,
        TransactionSender,
    )

CHAINS = ("eth-tester", "anvil")


@pytest.fixture(scope="session")
def anvil() -> Iterator[Anvil]:
    """A real anvil process for the whole session (skipped, or failed in CI, without it)."""
    binary = anchoring.find_anvil(search_from=REPO)
    need(binary is not None, "anvil not installed: run `npm ci` (see package.json)")
    with anchoring.Anvil(binary=binary) as node:
        yield node


@pytest.fixture(scope="session", params=CHAINS)
def chain(request: pytest.FixtureRequest) -> Web3:
    """A Web3 connected to each kind of chain in turn."""
    if request.param == "anvil":
        node: Anvil = request.getfixturevalue("anvil")
        return anchoring.connect(node.url)
    return anchoring.connect(None)


@dataclass(frozen=True)
class ChainEnv:
    """A deployed registry and anchor, and clients whose sender is the registry owner."""

    w3: Web3
    sender: TransactionSender
    deployment: Deployment
    registry: RegistryClient
    anchor: AnchorClient


@pytest.fixture(scope="session")
def env(chain: Web3) -> ChainEnv:
    """Contracts deployed once per chain, owned by a fresh funded account."""
    sender = anchoring.TransactionSender(chain, anchoring.funded_account(chain))
    deployment = anchoring.deploy(sender)
    return ChainEnv(
        w3=chain,
        sender=sender,
        deployment=deployment,
        registry=anchoring.RegistryClient(chain, deployment.registry, sender=sender),
        anchor=anchoring.AnchorClient(chain, deployment.anchor, sender=sender),
    )
