"""EnclaveRegistry on eth-tester and on anvil: owner operations, revocation, events."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers.anchoring import random32
from tests.helpers.chains import ChainEnv
from transcript import SigningKey
from verifier.anchor import (
    ContractRejected,
    RegistryClient,
    Sent,
    TransactionSender,
    deploy,
    funded_account,
)

ZERO_ADDRESS = "0x" + "00" * 20


def events(registry: RegistryClient, sent: Sent, name: str) -> list[dict[str, Any]]:
    contract = registry.contract.contract
    return [dict(e["args"]) for e in contract.events[name]().process_receipt(sent.receipt)]


def other_sender(env: ChainEnv) -> TransactionSender:
    return TransactionSender(env.w3, funded_account(env.w3))


def error_of(call: Any, *args: Any, **kwargs: Any) -> tuple[str, dict[str, object]]:
    with pytest.raises(ContractRejected) as info:
        call(*args, **kwargs)
    return info.value.error_name, info.value.error_args


def test_register_records_the_enclave_and_emits_an_event(env: ChainEnv) -> None:
    signer, measurement, evidence = SigningKey.generate().address, random32(), random32()
    sent = env.registry.register(signer, measurement=measurement, evidence_hash=evidence)

    record = env.registry.enclave(signer)
    assert (record.measurement, record.evidence_hash, record.registered_at) == (
        measurement,
        evidence,
        sent.block_number,
    )
    assert record.active and env.registry.is_active(signer)
    assert events(env.registry, sent, "EnclaveRegistered") == [
        {"signer": signer, "measurement": measurement, "evidenceHash": evidence}
    ]


def test_revocations_are_recorded_and_emit_events(env: ChainEnv) -> None:
    signer, measurement = SigningKey.generate().address, random32()
    env.registry.register(signer, measurement=measurement, evidence_hash=random32())

    sent = env.registry.revoke_enclave(signer)
    assert events(env.registry, sent, "EnclaveRevoked") == [
        {"signer": signer, "measurement": measurement}
    ]
    assert env.registry.enclave(signer).revoked_at == sent.block_number

    sent = env.registry.revoke_measurement(measurement)
    assert events(env.registry, sent, "MeasurementRevoked") == [{"measurement": measurement}]
    assert env.registry.measurement_revoked_at(measurement) == sent.block_number
    assert env.registry.enclave(signer).measurement_revoked_at == sent.block_number


def test_a_measurement_revoked_before_use_blocks_registration(env: ChainEnv) -> None:
    measurement = random32()
    env.registry.revoke_measurement(measurement)
    signer = SigningKey.generate().address
    assert error_of(
        env.registry.register, signer, measurement=measurement, evidence_hash=random32()
    ) == ("MeasurementIsRevoked", {"measurement": measurement})
    assert not env.registry.enclave(signer).registered


def test_an_unregistered_signer_is_not_active(env: ChainEnv) -> None:
    signer = SigningKey.generate().address
    record = env.registry.enclave(signer)
    assert not record.registered and not record.active
    assert not env.registry.is_active(signer)


def test_registration_is_once_and_revocation_is_final(env: ChainEnv) -> None:
    signer, measurement = SigningKey.generate().address, random32()
    env.registry.register(signer, measurement=measurement, evidence_hash=random32())
    again = {"measurement": random32(), "evidence_hash": random32()}
    assert error_of(env.registry.register, signer, **again) == (
        "AlreadyRegistered",
        {"signer": signer},
    )
    env.registry.revoke_enclave(signer)
    assert error_of(env.registry.revoke_enclave, signer) == ("AlreadyRevoked", {"signer": signer})
    assert error_of(env.registry.register, signer, **again)[0] == "AlreadyRegistered"
    env.registry.revoke_measurement(measurement)
    assert error_of(env.registry.revoke_measurement, measurement)[0] == "MeasurementIsRevoked"


@pytest.mark.parametrize("field", ["signer", "measurement", "evidence_hash"])
def test_zero_values_are_refused(env: ChainEnv, field: str) -> None:
    args: dict[str, Any] = {
        "signer": SigningKey.generate().address,
        "measurement": random32(),
        "evidence_hash": random32(),
    }
    args[field] = ZERO_ADDRESS if field == "signer" else bytes(32)
    signer = args.pop("signer")
    expected = "ZeroAddress" if field == "signer" else "ZeroValue"
    assert error_of(env.registry.register, signer, **args) == (expected, {})


def test_revoking_an_unknown_enclave_is_refused(env: ChainEnv) -> None:
    signer = SigningKey.generate().address
    assert error_of(env.registry.revoke_enclave, signer) == ("NotRegistered", {"signer": signer})


def test_only_the_owner_changes_anything(env: ChainEnv) -> None:
    stranger = other_sender(env)
    theirs = RegistryClient(env.w3, env.registry.address, sender=stranger)
    signer = SigningKey.generate().address
    denied = ("NotOwner", {"caller": stranger.address})
    assert error_of(theirs.register, signer, measurement=random32(), evidence_hash=random32()) == (
        denied
    )
    env.registry.register(signer, measurement=(m := random32()), evidence_hash=random32())
    assert error_of(theirs.revoke_enclave, signer) == denied
    assert error_of(theirs.revoke_measurement, m) == denied
    assert error_of(theirs.transfer_ownership, stranger.address) == denied
    assert env.registry.is_active(signer)


def test_ownership_moves_in_two_steps(env: ChainEnv) -> None:
    old = TransactionSender(env.w3, funded_account(env.w3))
    deployment = deploy(old)
    new, stranger = other_sender(env), other_sender(env)
    as_old = RegistryClient(env.w3, deployment.registry, sender=old)
    as_new = RegistryClient(env.w3, deployment.registry, sender=new)
    as_stranger = RegistryClient(env.w3, deployment.registry, sender=stranger)

    sent = as_old.transfer_ownership(new.address)
    assert events(as_old, sent, "OwnershipTransferStarted") == [
        {"previousOwner": old.address, "newOwner": new.address}
    ]
    assert (as_old.owner(), as_old.pending_owner()) == (old.address, new.address)
    assert error_of(as_stranger.accept_ownership) == (
        "NotPendingOwner",
        {"caller": stranger.address},
    )

    sent = as_new.accept_ownership()
    assert events(as_new, sent, "OwnershipTransferred") == [
        {"previousOwner": old.address, "newOwner": new.address}
    ]
    assert (as_new.owner(), as_new.pending_owner()) == (new.address, ZERO_ADDRESS)
    signer = SigningKey.generate().address
    assert error_of(as_old.register, signer, measurement=random32(), evidence_hash=random32())[
        0
    ] == ("NotOwner")
    as_new.register(signer, measurement=random32(), evidence_hash=random32())
    assert as_new.is_active(signer)


def test_a_pending_transfer_can_be_cancelled(env: ChainEnv) -> None:
    owner = TransactionSender(env.w3, funded_account(env.w3))
    deployment = deploy(owner)
    registry = RegistryClient(env.w3, deployment.registry, sender=owner)
    heir = other_sender(env)
    registry.transfer_ownership(heir.address)
    registry.transfer_ownership(ZERO_ADDRESS)
    as_heir = RegistryClient(env.w3, deployment.registry, sender=heir)
    assert error_of(as_heir.accept_ownership)[0] == "NotPendingOwner"
    assert registry.owner() == owner.address


def test_deploying_with_another_owner(env: ChainEnv) -> None:
    multisig = SigningKey.generate().address  # any address can own it, e.g. a multisig
    deployment = deploy(env.sender, owner=multisig)
    registry = RegistryClient(env.w3, deployment.registry)
    assert registry.owner() == multisig
    assert error_of(
        RegistryClient(env.w3, deployment.registry, sender=env.sender).register,
        multisig,
        measurement=random32(),
        evidence_hash=random32(),
    ) == ("NotOwner", {"caller": env.sender.address})
    with pytest.raises(ValueError, match="read-only"):
        registry.revoke_enclave(multisig)
