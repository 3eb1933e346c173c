"""Sending transactions from a local key: nonces, gas, fees, retries and receipts.

:class:`TransactionSender` signs locally (the key never goes to the node), so the same path
works on eth-tester, anvil and any public chain. For each transaction it:

1. estimates gas with ``eth_estimateGas`` (a revert here becomes :class:`ContractRejected`
   with the contract's named error, and uses no nonce), and adds a margin;
2. prices it: EIP-1559 (``maxFeePerGas = 2 * baseFee + tip``) when the chain has a base fee,
   a legacy ``gasPrice`` otherwise;
3. takes the next nonce from its own counter (seeded from the ``pending`` count, and
   re-seeded when the node says the nonce was used), signs, and sends, retrying transient
   RPC failures with the same signed bytes (resending is idempotent);
4. waits for the receipt, polling every ``poll_latency_s``; a reverted receipt is decoded
   into :class:`ContractRejected`, a timeout is :class:`ChainUnavailable` naming the hash.

Sending is serialised by a lock, so one sender can be shared between threads.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from eth_account.signers.local import LocalAccount
from eth_utils.exceptions import ValidationError
from hexbytes import HexBytes
from web3 import Web3
from web3.exceptions import (
    MethodUnavailable,
    TimeExhausted,
    TransactionNotFound,
    Web3RPCError,
)
from web3.types import TxParams, TxReceipt

from verifier.anchor.abi import LABELS, rejection
from verifier.anchor.errors import ChainUnavailable, ContractRejected
from verifier.anchor.rpc import RetryPolicy, retrying

#: Gas estimate margin, in percent: state can change between estimate and inclusion.
GAS_MARGIN_PERCENT = 20
DEFAULT_TIP_WEI = 1_000_000_000
T = TypeVar("T")
#: Called with ``(tx_hash, nonce)`` of a signed transaction just before it is sent.
OnSigned = Callable[[bytes, int], None]
#: How nodes say a nonce is taken (geth/anvil, then eth-tester's ValidationError).
_NONCE_ERRORS = (
    "nonce too low",
    "already known",
    "nonce has already been used",
    "replacement transaction underpriced",
    "invalid transaction nonce",
)


@dataclass(frozen=True, slots=True)
class Sent:
    """A mined, successful transaction."""

    tx_hash: bytes
    block_number: int
    block_hash: bytes
    gas_used: int
    receipt: Any  # web3's TxReceipt (AttributeDict), kept for its logs

    @property
    def contract_address(self) -> str | None:
        address = self.receipt.get("contractAddress")
        return str(address) if address else None


class TransactionSender:
    """Signs with ``account`` and sends to ``w3``; one instance per account."""

    def __init__(
        self,
        w3: Web3,
        account: LocalAccount,
        *,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.w3 = w3
        self.account = account
        self.policy = policy or RetryPolicy()
        self._sleep = sleep
        self._lock = threading.Lock()
        self._nonce: int | None = None
        self._chain_id: int | None = None

    @property
    def address(self) -> str:
        return str(self.account.address)

    def transact(self, *, contract: str, to: str | None, data: bytes) -> Sent:
        """Send a call (or, with ``to=None``, a deployment) of shipped ``contract``; wait for it."""
        return self.wait(contract, self.send(contract=contract, to=to, data=data))

    def send(
        self, *, contract: str, to: str | None, data: bytes, on_signed: OnSigned | None = None
    ) -> bytes:
        """Estimate, price, sign and send; return the transaction hash without waiting.

        Several sends in a row take consecutive nonces, so a caller can have many
        transactions in flight and :meth:`wait` for each afterwards.

        ``on_signed(tx_hash, nonce)`` runs after signing and before each attempt to send
        (again with the new hash when a taken nonce forces a re-sign). A caller that must
        survive a crash records the hash there, durably: if it raises, nothing is sent.
        """
        return self._send(contract, to, data, on_signed)

    def wait(self, contract: str, tx_hash: bytes) -> Sent:
        """Wait for ``tx_hash`` to be mined; decode a revert into :class:`ContractRejected`."""
        try:
            receipt = self._rpc(
                "waiting for a receipt",
                lambda: self.w3.eth.wait_for_transaction_receipt(
                    HexBytes(tx_hash),
                    timeout=self.policy.receipt_timeout_s,
                    poll_latency=self.policy.poll_latency_s,
                ),
            )
        except TimeExhausted:
            raise ChainUnavailable(
                "anchor.rpc",
                f"transaction 0x{tx_hash.hex()} was not mined within "
                f"{self.policy.receipt_timeout_s:g} s; it may still be",
            ) from None
        if receipt["status"] != 1:
            raise self._explain_failure(contract, receipt)
        return Sent(
            tx_hash=bytes(receipt["transactionHash"]),
            block_number=int(receipt["blockNumber"]),
            block_hash=bytes(receipt["blockHash"]),
            gas_used=int(receipt["gasUsed"]),
            receipt=receipt,
        )

    def _send(
        self, contract: str, to: str | None, data: bytes, on_signed: OnSigned | None = None
    ) -> bytes:
        call: dict[str, Any] = {"from": self.address, "data": data, "value": 0}
        if to is not None:
            call["to"] = to
        gas = self._estimate(contract, call)
        with self._lock:
            for _ in range(self.policy.attempts):
                tx: dict[str, Any] = {**call, **self._fees(), "gas": gas, "chainId": self._chain()}
                tx["nonce"] = self._next_nonce()
                signed = self.account.sign_transaction(tx)
                raw = bytes(signed.raw_transaction)
                if on_signed is not None:
                    on_signed(bytes(signed.hash), int(tx["nonce"]))
                try:
                    self._send_raw(raw)
                except ChainUnavailable:
                    self._nonce = None  # it may or may not have gone through: ask again next time
                    raise
                except (Web3RPCError, ValidationError) as exc:
                    if not any(m in str(exc).lower() for m in _NONCE_ERRORS):
                        raise ChainUnavailable(
                            "anchor.send", f"the node refused the transaction: {exc}"
                        ) from exc
                    if self._known(signed.hash):  # an earlier retry of ours got through
                        self._nonce = tx["nonce"] + 1
                        return bytes(signed.hash)
                    self._nonce = None  # someone else used the nonce: re-seed and re-sign
                    continue
                self._nonce = tx["nonce"] + 1
                return bytes(signed.hash)
        raise ChainUnavailable("anchor.rpc", "the node kept refusing our nonces")

    def _estimate(self, contract: str, call: dict[str, Any]) -> int:
        try:
            estimate = self._rpc(
                "estimating gas", lambda: self.w3.eth.estimate_gas(cast("TxParams", call))
            )
        except ChainUnavailable:
            raise
        except (Web3RPCError, ValidationError) as exc:
            rejected = rejection(contract, exc)
            if rejected is not None:
                raise rejected from None
            raise ChainUnavailable(
                "anchor.send", f"the node refused the transaction: {exc}"
            ) from exc
        except Exception as exc:
            rejected = rejection(contract, exc)
            if rejected is None:
                raise
            raise rejected from None
        return int(estimate) * (100 + GAS_MARGIN_PERCENT) // 100

    def _fees(self) -> dict[str, int]:
        block = self._rpc("reading the latest block", lambda: self.w3.eth.get_block("latest"))
        base_fee = block.get("baseFeePerGas")
        if base_fee is None:
            price = self._rpc("reading the gas price", lambda: self.w3.eth.gas_price)
            return {"gasPrice": int(price)}
        try:
            tip = int(self._rpc("reading the priority fee", lambda: self.w3.eth.max_priority_fee))
        except (MethodUnavailable, Web3RPCError):
            tip = DEFAULT_TIP_WEI
        return {"maxFeePerGas": 2 * int(base_fee) + tip, "maxPriorityFeePerGas": tip}

    def _chain(self) -> int:
        if self._chain_id is None:
            self._chain_id = int(self._rpc("reading the chain id", lambda: self.w3.eth.chain_id))
        return self._chain_id

    def _next_nonce(self) -> int:
        if self._nonce is None:
            self._nonce = int(
                self._rpc(
                    "reading the nonce",
                    lambda: self.w3.eth.get_transaction_count(self.account.address, "pending"),
                )
            )
        return self._nonce

    def _send_raw(self, raw: bytes) -> None:
        self._rpc("sending a transaction", lambda: self.w3.eth.send_raw_transaction(raw))

    def _rpc(self, what: str, call: Callable[[], T]) -> T:
        return retrying(what, call, self.policy, self._sleep)

    def _known(self, tx_hash: bytes) -> bool:
        try:
            self._rpc(
                "looking up a transaction", lambda: self.w3.eth.get_transaction(HexBytes(tx_hash))
            )
        except TransactionNotFound:
            return False
        return True

    def _explain_failure(self, contract: str, receipt: TxReceipt) -> ContractRejected:
        """Replay a reverted transaction for the contract's error.

        It is replayed on the state at the end of its block: usually what made it revert is a
        transaction mined before it in the same block (a competing submission), whose effect
        that state includes. The replay is an explanation, not a verdict: the receipt's
        status already said the transaction failed.
        """
        tx = self._rpc(
            "reading a transaction", lambda: self.w3.eth.get_transaction(receipt["transactionHash"])
        )
        replay: dict[str, Any] = {"from": tx["from"], "data": tx["input"], "value": tx["value"]}
        if tx.get("to"):
            replay["to"] = tx["to"]
        try:
            self.w3.eth.call(cast("TxParams", replay), receipt["blockNumber"])
        except Exception as exc:
            rejected = rejection(contract, exc)
            if rejected is not None:
                return rejected
            raise
        tx_hash = bytes(receipt["transactionHash"])
        return ContractRejected(LABELS[contract], "revert", {"tx": tx_hash})
