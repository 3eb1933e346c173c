"""One shipped contract at one address: reads with retries, writes through a sender."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from web3 import Web3

from verifier.anchor.abi import abi_of, rejection
from verifier.anchor.rpc import RetryPolicy, retrying

if TYPE_CHECKING:
    from web3.contract import Contract

    from verifier.anchor.tx import Sent, TransactionSender


class BoundContract:
    """``name`` (an artifact) deployed at ``address`` on ``w3``.

    Without a ``sender`` it is read-only, and writing raises ``ValueError``.
    """

    def __init__(
        self,
        name: str,
        w3: Web3,
        address: str,
        *,
        sender: TransactionSender | None = None,
        policy: RetryPolicy | None = None,
    ) -> None:
        self.name = name
        self.w3 = w3
        self.address = Web3.to_checksum_address(address)
        self.sender = sender
        self.policy = policy or (sender.policy if sender else RetryPolicy())
        self.contract: Contract = w3.eth.contract(address=self.address, abi=list(abi_of(name)))

    def read(self, function: str, *args: Any, block: int | str = "latest") -> Any:
        """Call a view function; a revert becomes :class:`ContractRejected`."""
        bound = self.contract.get_function_by_name(function)(*args)
        try:
            return retrying(
                f"calling {self.name}.{function}",
                lambda: bound.call(block_identifier=block),
                self.policy,
            )
        except Exception as exc:
            rejected = rejection(self.name, exc)
            if rejected is None:
                raise
            raise rejected from None

    def write(self, function: str, *args: Any) -> Sent:
        """Send a transaction calling ``function``; wait until it is mined."""
        if self.sender is None:
            raise ValueError(f"this {self.name} client is read-only: give it a sender")
        data = self.contract.encode_abi(function, args=list(args))
        return self.sender.transact(
            contract=self.name, to=self.address, data=bytes.fromhex(data[2:])
        )


class ContractClient:
    """Base of the typed clients: the contract ``NAME`` at ``address``, read-only without a
    ``sender``."""

    NAME: str

    def __init__(
        self,
        w3: Web3,
        address: str,
        *,
        sender: TransactionSender | None = None,
        policy: RetryPolicy | None = None,
    ) -> None:
        self._c = BoundContract(self.NAME, w3, address, sender=sender, policy=policy)

    @property
    def address(self) -> str:
        return self._c.address

    @property
    def contract(self) -> BoundContract:
        """The raw contract, for calls the typed methods do not wrap."""
        return self._c
