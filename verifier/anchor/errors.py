"""Errors of the anchor client, placed in the verifier's error tree::

    VerificationFailed
    ├── ContractRejected       a contract reverted: it checked, and said no   (exit 1)
    └── ReceiptInvalid
        └── InclusionInvalid   an inclusion proof does not hold on chain      (exit 1)
    CouldNotCheck
    └── ChainUnavailable       the RPC failed after retries, or a transaction
                               was not mined in time, or not deep enough yet  (exit 3)
    BadInput
    └── MalformedInclusionProof  an inclusion proof that is not well formed   (exit 2)

``check`` names: ``anchor.<ErrorName>`` / ``registry.<ErrorName>`` for contract reverts;
``anchor.rpc`` for the chain and ``anchor.send`` for a transaction the node refused;
``anchor.signature``, ``anchor.merkle``, ``anchor.code``, ``anchor.transaction``,
``anchor.event``, ``anchor.storage`` and ``anchor.confirmations`` for the steps of an
inclusion check, and ``anchor.proof`` for a malformed proof.
"""

from __future__ import annotations

from verifier.errors import BadInput, CouldNotCheck, ReceiptInvalid, VerificationFailed


class ContractRejected(VerificationFailed):
    """A contract reverted with one of its named errors (or without one)."""

    def __init__(self, contract: str, error_name: str, error_args: dict[str, object]) -> None:
        self.contract = contract
        self.error_name = error_name
        self.error_args = error_args
        shown = ", ".join(f"{k}={_show(v)}" for k, v in error_args.items())
        super().__init__(
            f"{contract}.{error_name}", f"the {contract} contract said {error_name}({shown})"
        )


class InclusionInvalid(ReceiptInvalid):
    """A receipt's anchored inclusion proof does not hold."""


class ChainUnavailable(CouldNotCheck):
    """The chain could not be asked (or did not answer in time); no verdict."""


class MalformedInclusionProof(BadInput):
    """An inclusion proof document that is not well formed."""


def _show(value: object) -> str:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return str(value)
