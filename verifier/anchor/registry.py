"""Client of the ``EnclaveRegistry`` contract: who may anchor, and the owner's operations."""

from __future__ import annotations

from typing import TYPE_CHECKING

from verifier.anchor.bound import ContractClient
from verifier.anchor.records import EnclaveRecord

if TYPE_CHECKING:
    from verifier.anchor.tx import Sent


def _bytes32(value: bytes, what: str) -> bytes:
    if type(value) is not bytes or len(value) != 32:
        raise ValueError(f"{what} must be 32 bytes")
    return value


class RegistryClient(ContractClient):
    """Reads the registry; with a ``sender`` that is its owner, registers and revokes.

    Register a key only after its attestation evidence verified under your policy: the
    registry records that you did (``evidence_hash``), it cannot check it.
    """

    NAME = "EnclaveRegistry"

    def owner(self) -> str:
        return str(self._c.read("owner"))

    def pending_owner(self) -> str:
        return str(self._c.read("pendingOwner"))

    def is_active(self, signer: str) -> bool:
        return bool(self._c.read("isActive", signer))

    def enclave(self, signer: str) -> EnclaveRecord:
        measurement, evidence_hash, registered_at, revoked_at = self._c.read("enclave", signer)
        revoked_measurement = (
            self._c.read("measurementRevokedAt", measurement) if any(measurement) else 0
        )
        return EnclaveRecord(
            signer=signer,
            measurement=bytes(measurement),
            evidence_hash=bytes(evidence_hash),
            registered_at=int(registered_at),
            revoked_at=int(revoked_at),
            measurement_revoked_at=int(revoked_measurement),
        )

    def measurement_revoked_at(self, measurement: bytes) -> int:
        """Block of the measurement's revocation, 0 while it is not revoked."""
        return int(self._c.read("measurementRevokedAt", _bytes32(measurement, "measurement")))

    def register(self, signer: str, *, measurement: bytes, evidence_hash: bytes) -> Sent:
        """Register ``signer`` (an enclave key whose evidence you verified)."""
        return self._c.write(
            "register",
            signer,
            _bytes32(measurement, "measurement"),
            _bytes32(evidence_hash, "evidence_hash"),
        )

    def revoke_enclave(self, signer: str) -> Sent:
        return self._c.write("revokeEnclave", signer)

    def revoke_measurement(self, measurement: bytes) -> Sent:
        return self._c.write("revokeMeasurement", _bytes32(measurement, "measurement"))

    def transfer_ownership(self, new_owner: str) -> Sent:
        """First step of a hand-over; ``new_owner`` completes it with :meth:`accept_ownership`."""
        return self._c.write("transferOwnership", new_owner)

    def accept_ownership(self) -> Sent:
        return self._c.write("acceptOwnership")
