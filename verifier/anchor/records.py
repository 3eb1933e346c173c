"""What the anchor client reads from and writes to the chain, as plain immutable values."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from transcript.keys import parse_address
from verifier.errors import BadInput


@dataclass(frozen=True, slots=True)
class Deployment:
    """Where a registry and its anchor live. Its JSON form is what deploy scripts save."""

    chain_id: int
    registry: str
    anchor: str
    block_number: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "chain_id": self.chain_id,
            "registry": self.registry,
            "anchor": self.anchor,
            "block_number": self.block_number,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Deployment:
        try:
            chain_id, block = data["chain_id"], data["block_number"]
            if type(chain_id) is not int or type(block) is not int:
                raise TypeError("chain_id and block_number are integers")
            return cls(
                chain_id=chain_id,
                registry=parse_address(data["registry"]),
                anchor=parse_address(data["anchor"]),
                block_number=block,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise BadInput("anchor.deployment", f"not a deployment: {exc}") from None


@dataclass(frozen=True, slots=True)
class EnclaveRecord:
    """The registry's record of one signing key (all zero when never registered)."""

    signer: str
    measurement: bytes
    evidence_hash: bytes
    registered_at: int
    revoked_at: int
    measurement_revoked_at: int

    @property
    def registered(self) -> bool:
        return self.registered_at != 0

    @property
    def active(self) -> bool:
        """The registry's ``isActive``: registered, and neither it nor its measurement revoked."""
        return self.registered and self.revoked_at == 0 and self.measurement_revoked_at == 0


@dataclass(frozen=True, slots=True)
class ChainHead:
    """A signer's anchored chain so far: last seq (0 if none), count, last checkpoint digest."""

    signer: str
    last_seq: int
    count: int
    last_digest: bytes


@dataclass(frozen=True, slots=True)
class AnchoredCheckpoint:
    """A checkpoint as the anchor stores it: its place in the signer's chain, and its block."""

    signer: str
    index: int
    root: bytes
    first_seq: int
    last_seq: int
    block_number: int


@dataclass(frozen=True, slots=True)
class Anchoring:
    """The outcome of one ``submitCheckpoint`` transaction."""

    index: int
    digest: bytes
    tx_hash: bytes
    block_number: int
    gas_used: int
