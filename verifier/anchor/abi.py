"""The shipped contracts' ABIs, and revert data turned into :class:`ContractRejected`.

Both chains we test on report a revert differently: a JSON-RPC node (anvil, geth) returns
the revert data, which web3 raises as ``ContractCustomError``/``ContractLogicError`` with
``data``; eth-tester raises ``TransactionFailed("execution reverted: b'...'")`` whose message
holds the ``repr`` of the raw bytes. :func:`revert_data` reads either.
"""

from __future__ import annotations

import ast
from functools import cache
from typing import Any

from eth_abi.abi import decode as abi_decode
from eth_tester.exceptions import TransactionFailed
from eth_utils.abi import function_signature_to_4byte_selector
from eth_utils.address import to_checksum_address
from web3.exceptions import ContractLogicError

from contracts import load_artifact
from verifier.anchor.errors import ContractRejected

#: Short labels used in error ``check`` names, by artifact name.
LABELS = {"TranscriptAnchor": "anchor", "EnclaveRegistry": "registry"}
_ErrorAbi = tuple[str, tuple[str, ...], tuple[str, ...]]  # name, argument types, names
_STANDARD: dict[bytes, _ErrorAbi] = {
    function_signature_to_4byte_selector("Error(string)"): ("Error", ("string",), ("reason",)),
    function_signature_to_4byte_selector("Panic(uint256)"): ("Panic", ("uint256",), ("code",)),
}
_ETH_TESTER_PREFIX = "execution reverted: "


@cache
def abi_of(name: str) -> tuple[dict[str, Any], ...]:
    """The ABI of a shipped contract (cached, immutable at the top level)."""
    return tuple(load_artifact(name)["abi"])


@cache
def _errors_of(name: str) -> dict[bytes, _ErrorAbi]:
    table = dict(_STANDARD)
    for item in abi_of(name):
        if item["type"] != "error":
            continue
        types = tuple(arg["type"] for arg in item["inputs"])
        names = tuple(arg["name"] for arg in item["inputs"])
        selector = function_signature_to_4byte_selector(f"{item['name']}({','.join(types)})")
        table[selector] = (item["name"], types, names)
    return table


def decode_revert(contract: str, data: bytes) -> ContractRejected:
    """The named error in ``data`` (selector ‖ ABI-encoded arguments) of ``contract``."""
    label = LABELS[contract]
    if len(data) < 4:
        return ContractRejected(label, "revert", {})
    entry = _errors_of(contract).get(data[:4])
    if entry is None:
        return ContractRejected(label, "unknown", {"data": data})
    name, types, names = entry
    try:
        values = abi_decode(list(types), data[4:])
    except Exception:  # noqa: BLE001 - eth_abi raises several unrelated types on bad data
        return ContractRejected(label, name, {"data": data[4:]})
    shown = [
        to_checksum_address(v) if t == "address" else v for t, v in zip(types, values, strict=True)
    ]
    return ContractRejected(label, name, dict(zip(names, shown, strict=True)))


def revert_data(exc: BaseException) -> bytes | None:
    """The revert data carried by a web3 or eth-tester exception, or None if it is not a revert."""
    if isinstance(exc, ContractLogicError):
        data = exc.data
        if isinstance(data, str) and data.startswith("0x"):
            return bytes.fromhex(data[2:])
        return b""
    if isinstance(exc, TransactionFailed):
        message = str(exc.args[0]) if exc.args else ""
        if not message.startswith(_ETH_TESTER_PREFIX):
            return b""
        literal = message[len(_ETH_TESTER_PREFIX) :]
        if literal.startswith(("b'", 'b"')):
            value = ast.literal_eval(literal)
            if isinstance(value, bytes):
                return value
        return b""
    return None


def rejection(contract: str, exc: BaseException) -> ContractRejected | None:
    """``exc`` as a :class:`ContractRejected` if it reports a revert of ``contract``."""
    data = revert_data(exc)
    return None if data is None else decode_revert(contract, data)
