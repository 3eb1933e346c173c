"""Deployment records, as deploy scripts save and load them."""

from __future__ import annotations

import pytest

from verifier.anchor import Deployment
from verifier.errors import BadInput

GOOD = {
    "chain_id": 31337,
    "registry": "0x" + "ab" * 20,
    "anchor": "0x" + "cd" * 20,
    "block_number": 3,
}


def test_round_trip_checksums_addresses() -> None:
    deployment = Deployment.from_dict(GOOD)
    assert deployment.registry == "0xABaBaBaBABabABabAbAbABAbABabababaBaBABaB"
    assert Deployment.from_dict(deployment.to_dict()) == deployment


@pytest.mark.parametrize(
    "change",
    [{"chain_id": "1"}, {"anchor": "0x1234"}, {"block_number": None}, {"registry": 5}],
)
def test_bad_deployments_are_bad_input(change: dict[str, object]) -> None:
    with pytest.raises(BadInput, match=r"anchor\.deployment"):
        Deployment.from_dict({**GOOD, **change})
    with pytest.raises(BadInput):
        Deployment.from_dict({k: v for k, v in GOOD.items() if k != "anchor"})
