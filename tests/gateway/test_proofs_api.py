"""``GET /v1/receipts/{id}/proof`` on a real gateway over a real store, on both chains:
anchored proofs verify on chain; everything else says plainly why it is not anchored."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.anchoring.publisher import Publisher
from tests.gateway import stack
from tests.gateway.stack import Tenant
from tests.helpers.chains import ChainEnv
from tests.helpers.transparency import PaperEnclave, anchor_chain, fill, register, sqlite_store
from transcript.merkle import root_from_proof
from verifier.anchor import InclusionProof, verify_anchored_inclusion


class Gateway:
    def __init__(self, url: str, tenants: dict[str, Tenant]) -> None:
        self.url = url
        self.tenants = tenants

    def proof(self, receipt_id: str, tenant: str = "ops") -> httpx.Response:
        return httpx.get(
            f"{self.url}/v1/receipts/{receipt_id}/proof",
            headers=self.tenants[tenant].headers,
            timeout=10,
        )


@pytest.fixture
def setup(
    env: ChainEnv, amd_state: Path, tmp_path: Path
) -> Iterator[tuple[Gateway, PaperEnclave, PaperEnclave]]:
    """Enclave ``a``: checkpoints 1..4 anchored, 5..8 not yet, a tail 9..10; enclave ``b``
    (never registered): one checkpoint the anchor refuses for now."""
    a, b = PaperEnclave("a").run(4), PaperEnclave("b").run(3)
    register(env, a)
    db = tmp_path / "gateway.db"
    with sqlite_store(db) as use:
        use(lambda store: fill(store, a, b))
        use(lambda store: Publisher(store=store, chain=anchor_chain(env)).round())
        a.run(4, tail=2)
        use(lambda store: fill(store, a))
    config = stack.gateway_config(
        tmp_path, [], amd_state, anchor={"contract": env.deployment.anchor}
    )
    tenants = {"ops": stack.add_tenant(config, "ops", admin=True),
               "acme": stack.add_tenant(config, "acme"), "zeta": stack.add_tenant(config, "zeta")}  # fmt: skip
    gateway = stack.start_gateway(config)
    try:
        yield Gateway(gateway.url, tenants), a, b
    finally:
        gateway.stop()


def test_an_anchored_receipts_proof_verifies_on_chain(env: ChainEnv, setup: Any) -> None:
    gateway, a, _ = setup
    answer = gateway.proof(a.receipts[2].id, "acme").json()  # acme's own receipt
    assert answer["anchored"] is True and answer["state"] == "anchored"
    assert answer["anchoring"]["contract"] == env.deployment.anchor
    assert answer["anchoring"]["checkpoint_index"] == 0
    assert "is #0 of" in answer["message"]
    proof = InclusionProof.from_dict(answer["proof"])
    assert proof.path == tuple(bytes.fromhex(n) for n in answer["path"])
    result = verify_anchored_inclusion(env.w3, anchor=env.deployment.anchor, proof=proof)
    assert (result.seq, result.block_number) == (3, answer["anchoring"]["block_number"])


def test_a_checkpointed_receipt_not_anchored_yet_says_so_with_its_path(setup: Any) -> None:
    gateway, a, _ = setup
    answer = gateway.proof(a.receipts[5].id).json()
    assert answer["anchored"] is False and answer["state"] == "pending"
    assert answer["message"].startswith("not anchored yet: checkpoint seq 5..8 is waiting")
    assert answer["proof"] is None and answer["anchoring"] is None
    root = root_from_proof(
        a.receipts[5].body_hash, 1, 4, [bytes.fromhex(n) for n in answer["path"]]
    )
    assert root.hex() == answer["checkpoint"]["root"] == a.checkpoints[1].checkpoint.root.hex()


def test_a_receipt_no_checkpoint_covers_yet(setup: Any) -> None:
    gateway, a, _ = setup
    answer = gateway.proof(a.receipts[9].id).json()
    assert (answer["anchored"], answer["state"], answer["checkpoint"]) == (
        False, "not_checkpointed", None,
    )  # fmt: skip
    assert "no checkpoint of" in answer["message"] and "covers seq 10" in answer["message"]


def test_a_checkpoint_the_anchor_refuses_for_now(setup: Any) -> None:
    gateway, _, b = setup
    answer = gateway.proof(b.receipts[0].id).json()
    assert answer["state"] == "waiting" and "EnclaveNotActive" in answer["message"]


def test_a_receipt_the_store_lost_leaves_no_path(setup: Any, tmp_path: Path) -> None:
    gateway, a, _ = setup
    with sqlite3.connect(tmp_path / "gateway.db") as conn:
        conn.execute("DELETE FROM receipts WHERE id = ?", (a.receipts[6].id,))
    response = gateway.proof(a.receipts[4].id)
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "proof_unavailable"
    assert "lacks receipt(s) seq 7 of checkpoint 5..8" in error["message"]


def test_only_visible_receipts_have_proofs(setup: Any) -> None:
    gateway, a, _ = setup
    assert gateway.proof(a.receipts[0].id, "zeta").status_code == 404  # acme's
    missing = gateway.proof("ab" * 32)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "receipt_not_found"
