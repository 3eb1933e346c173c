"""The publisher's side of the anchor chain: the connection, the key, the two contracts.

The key that pays for anchoring is read once, from ``anchor.key_file`` (64 hex digits,
``0x`` optional) or the environment variable ``anchor.key_env``. It signs locally (it never
reaches the node) and nothing here ever prints it: errors name the file or the variable,
never their content. Any funded account can anchor (the enclave's signature authorises a
checkpoint); registering enclaves needs the registry owner's key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from gateway.errors import ConfigError
from gateway.settings import AnchorSettings

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount
    from web3 import Web3

    from verifier.anchor import AnchorClient, AnchoredHistory, RegistryClient, TransactionSender

_HEX = frozenset("0123456789abcdefABCDEF")


def load_account(settings: AnchorSettings, environ: Mapping[str, str]) -> LocalAccount:
    """The sending account named by the settings; :class:`ConfigError` without its content."""
    from eth_account import Account

    if settings.key_file is not None:
        try:
            text = settings.key_file.read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) else "not ASCII"
            raise ConfigError(
                f"cannot read {settings.key_file}: {reason}", key="anchor.key_file"
            ) from None
        where, key = "anchor.key_file", text
    elif settings.key_env is not None:
        if settings.key_env not in environ:
            raise ConfigError(f"${settings.key_env} is not set", key="anchor.key_env")
        where, key = "anchor.key_env", environ[settings.key_env].strip()
    else:
        raise ConfigError("give key_file or key_env: the key that pays for anchoring", key="anchor")
    digits = key.removeprefix("0x")
    if len(digits) != 64 or not set(digits) <= _HEX:
        raise ConfigError("must hold a secp256k1 private key as 64 hex digits", key=where)
    try:
        account: LocalAccount = Account.from_key(bytes.fromhex(digits))
    except ValueError:
        raise ConfigError("is not a valid secp256k1 private key", key=where) from None
    return account


@dataclass
class AnchorChain:
    """A connected chain, the anchor at the configured address and the registry it uses."""

    w3: Web3
    sender: TransactionSender
    anchor: AnchorClient
    registry: RegistryClient
    chain_id: int
    from_block: int

    @property
    def contract(self) -> str:
        return self.anchor.address


def open_chain(
    settings: AnchorSettings, account: LocalAccount, *, w3: Web3 | None = None
) -> AnchorChain:
    """Connect (``w3`` if given: the embedded chain lives in its creator's process) and check
    that the configured address runs veritee's anchor and registry."""
    from verifier.anchor import AnchorClient, RegistryClient, RetryPolicy, TransactionSender
    from verifier.anchor import connect as connect_rpc
    from verifier.transparency.chain import require_code

    if settings.contract is None:
        raise ConfigError("set the TranscriptAnchor address", key="anchor.contract")
    if w3 is None:
        if settings.rpc_url is None:
            raise ConfigError("set the chain's RPC URL", key="anchor.rpc_url")
        if settings.rpc_url == "embedded":
            raise ConfigError(
                "the embedded chain exists only inside the process that made it (veritee "
                "demo); give the RPC URL of a node",
                key="anchor.rpc_url",
            )
        w3 = connect_rpc(settings.rpc_url)
    policy = RetryPolicy(receipt_timeout_s=settings.receipt_timeout_seconds)
    sender = TransactionSender(w3, account, policy=policy)
    require_code(w3, "TranscriptAnchor", settings.contract, policy)
    anchor = AnchorClient(w3, settings.contract, sender=sender)
    registry_address = anchor.registry()
    require_code(w3, "EnclaveRegistry", registry_address, policy)
    return AnchorChain(
        w3=w3,
        sender=sender,
        anchor=anchor,
        registry=RegistryClient(w3, registry_address, sender=sender),
        chain_id=int(w3.eth.chain_id),
        from_block=settings.from_block,
    )


def read_history(chain: AnchorChain, signer: str) -> AnchoredHistory:
    """Everything ``signer`` anchored (one event query, from the deployment block)."""
    from verifier.anchor import anchored_history

    return anchored_history(chain.anchor, signer, from_block=chain.from_block)


def transaction_fate(chain: AnchorChain, tx_hash: bytes) -> str:
    """``mined``, ``reverted``, ``pending`` (the node holds it) or ``unknown``."""
    from hexbytes import HexBytes
    from web3.exceptions import TransactionNotFound

    from verifier.anchor.rpc import retrying

    policy = chain.anchor.contract.policy
    try:
        receipt = retrying(
            "reading a receipt",
            lambda: chain.w3.eth.get_transaction_receipt(HexBytes(tx_hash)),
            policy,
        )
        return "mined" if receipt["status"] == 1 else "reverted"
    except TransactionNotFound:
        pass
    try:
        retrying(
            "reading a transaction", lambda: chain.w3.eth.get_transaction(HexBytes(tx_hash)), policy
        )
    except TransactionNotFound:
        return "unknown"
    return "pending"
