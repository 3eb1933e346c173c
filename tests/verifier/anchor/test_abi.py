"""Revert data from either chain, decoded into the contracts' named errors."""

from __future__ import annotations

from eth_abi.abi import encode
from eth_tester.exceptions import TransactionFailed
from eth_utils.abi import function_signature_to_4byte_selector as selector
from web3.exceptions import ContractCustomError

from verifier.anchor.abi import decode_revert, revert_data

SIGNER = "0x" + "ab" * 20
NOT_ACTIVE = selector("EnclaveNotActive(address)") + encode(["address"], [SIGNER])


def test_a_named_error_is_decoded_with_its_arguments() -> None:
    error = decode_revert("TranscriptAnchor", NOT_ACTIVE)
    assert (error.check, error.error_name) == ("anchor.EnclaveNotActive", "EnclaveNotActive")
    assert error.error_args == {"signer": "0xABaBaBaBABabABabAbAbABAbABabababaBaBABaB"}
    assert "EnclaveNotActive(signer=0xAB" in str(error)


def test_standard_unknown_short_and_garbled_reverts() -> None:
    reason = selector("Error(string)") + encode(["string"], ["nope"])
    assert decode_revert("EnclaveRegistry", reason).error_args == {"reason": "nope"}
    panic = selector("Panic(uint256)") + encode(["uint256"], [0x11])
    assert decode_revert("TranscriptAnchor", panic).error_args == {"code": 0x11}
    assert decode_revert("TranscriptAnchor", b"\x01\x02\x03\x04").error_name == "unknown"
    assert decode_revert("TranscriptAnchor", b"").error_name == "revert"
    garbled = decode_revert("TranscriptAnchor", NOT_ACTIVE[:10])
    assert (garbled.error_name, garbled.error_args) == (
        "EnclaveNotActive",
        {"data": NOT_ACTIVE[4:10]},
    )


def test_revert_data_from_each_chain() -> None:
    data = "0x" + NOT_ACTIVE.hex()
    assert revert_data(ContractCustomError(data, data=data)) == NOT_ACTIVE
    assert revert_data(TransactionFailed(f"execution reverted: {NOT_ACTIVE!r}")) == NOT_ACTIVE
    assert revert_data(TransactionFailed("execution reverted: out of gas")) == b""
    assert revert_data(ValueError("not a revert")) is None
