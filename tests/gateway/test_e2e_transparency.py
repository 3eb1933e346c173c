"""The whole transparency path, on eth-tester and on anvil: a real enclave behind a real
gateway; its checkpoints anchored by the publisher after the operator registers it; a proof
from the gateway verified on chain; the log exported and verified; and then the gateway
deletes one stored receipt and alters another, and the verifiers name exactly which."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from gateway.anchoring.publisher import Publisher
from gateway.anchoring.registrar import Registrar
from gateway.audit.export import ExportRequest, export_bundle
from gateway.config import settings_from_dict
from gateway.settings import Settings
from gateway.store.sqlite import SqliteStore
from gateway.trust import load_trust
from tests.cli.helpers import run_script
from tests.gateway import stack
from tests.gateway.stack import MODEL, InThread, Tenant
from tests.helpers.chains import ChainEnv
from tests.helpers.transparency import anchor_chain, sqlite_store
from verifier.anchor import InclusionProof, verify_anchored_inclusion
from verifier.audit import read_bundle, verify_bundle, write_bundle
from verifier.transparency.chain import read_chain
from verifier.trust import TrustedRoots
from veritee.upstream_sim import ThreadedSim

REQUESTS = 12


@dataclass
class Running:
    enclave: InThread
    gateway: InThread
    settings: Settings
    admin: Tenant
    directory: Path
    env: ChainEnv
    since: int  # the block before the test's first anchoring

    @property
    def db(self) -> Path:
        return self.directory / "gateway.db"

    def store_job(self, job: Any) -> Any:
        with sqlite_store(self.db) as use:
            return use(job)

    def publish(self) -> None:
        policy, roots = load_trust(self.settings.attestation)

        async def job(store: SqliteStore) -> None:
            chain = anchor_chain(self.env)
            registrar = Registrar(store=store, registry=chain.registry, policy=policy, roots=roots)
            await Publisher(store=store, chain=chain, registrar=registrar).round()

        self.store_job(job)

    def receipts(self) -> list[dict[str, Any]]:
        page = httpx.get(
            self.gateway.url + "/v1/receipts?limit=1000", headers=self.admin.headers, timeout=10
        ).json()
        return sorted(page["data"], key=lambda e: e["seq"])


@pytest.fixture
def running(env: ChainEnv, sim: ThreadedSim, amd_state: Path, tmp_path: Path) -> Iterator[Running]:
    since = env.w3.eth.block_number
    enclave = stack.start_enclave(sim, amd_state)
    config = stack.gateway_config(
        tmp_path, [("a", enclave.url)], amd_state, anchor={"contract": env.deployment.anchor}
    )
    admin = stack.add_tenant(config, "ops", admin=True)
    gateway = stack.start_gateway(config)
    try:
        stack.wait_admitted(gateway.url, admin.headers, ["a"])
        for i in range(REQUESTS):
            response = httpx.post(
                gateway.url + "/v1/chat/completions", headers=admin.headers, timeout=30,
                json={"model": MODEL, "messages": [{"role": "user", "content": f"hello {i}"}]},
            )  # fmt: skip
            assert response.status_code == 200
        yield Running(enclave, gateway, settings_from_dict(config), admin, tmp_path, env, since)
    finally:
        gateway.stop()
        enclave.stop()


def wait_checkpointed(run: Running) -> None:
    """Until the store holds checkpoints over every receipt (the enclave cuts one every
    0.5 s; the gateway copies them every 0.5 s)."""

    def covered() -> bool:
        last = max(e["seq"] for e in run.receipts())
        found = run.store_job(lambda store: store.checkpoint_covering(e_signer(run), last))
        return found is not None

    stack.wait_until(covered)


def e_signer(run: Running) -> str:
    return str(run.receipts()[0]["signer"])


def test_anchored_proofs_verify_and_a_bundle_round_trips(running: Running, tmp_path: Path) -> None:
    wait_checkpointed(running)
    running.publish()
    entries = running.receipts()
    assert len(entries) == REQUESTS
    proof_url = f"{running.gateway.url}/v1/receipts/{entries[6]['id']}/proof"
    answer = httpx.get(proof_url, headers=running.admin.headers, timeout=10).json()
    assert answer["anchored"] is True and answer["state"] == "anchored"
    assert answer["anchoring"]["contract"] == running.env.deployment.anchor
    result = verify_anchored_inclusion(
        running.env.w3,
        anchor=running.env.deployment.anchor,
        proof=InclusionProof.from_dict(answer["proof"]),
    )
    assert result.seq == 7 and result.block_number == answer["anchoring"]["block_number"]

    manifest, files = running.store_job(lambda store: export_bundle(store, _request(running)))
    path = tmp_path / "bundle.tar"
    write_bundle(path, manifest, files)
    roots = TrustedRoots.from_paths([running.settings.attestation.roots[0]])
    view = read_chain(
        running.env.w3, anchor=running.env.deployment.anchor, signers=[e_signer(running)],
        from_block=running.since,
    )  # fmt: skip
    report = verify_bundle(read_bundle(path), roots_for=lambda _p: roots, chain=view)
    assert report.ok, report.failures
    assert report.summary()["receipts_ok"] == REQUESTS
    assert report.anchored_checkpoints == report.checkpoints > 0
    assert all(r.inclusion.startswith("included: ") for r in report.receipts)
    assert all("checked on chain" in r.inclusion for r in report.receipts)


def test_a_deleted_receipt_is_named_by_its_seq(running: Running, tmp_path: Path) -> None:
    wait_checkpointed(running)
    running.publish()
    doomed = running.receipts()[4]
    with sqlite3.connect(running.db) as conn:
        conn.execute("DELETE FROM receipts WHERE id = ?", (doomed["id"],))
    log = tmp_path / "log.jsonl"
    log.write_bytes(b"".join(orjson.dumps(e["receipt"]) + b"\n" for e in running.receipts()))
    evidence = tmp_path / "evidence.json"
    record = running.store_job(lambda store: store.attestation(doomed["signer"]))
    evidence.write_bytes(record.document)
    if running.env.w3.provider.__class__.__name__ == "HTTPProvider":  # anvil: the real CLI
        done = run_script(
            "verify", "receipts", log, "--evidence", evidence, "--roots",
            running.settings.attestation.roots[0], "--policy", running.settings.attestation.policy,
            "--rpc", running.env.w3.provider.endpoint_uri, "--contract",
            running.env.deployment.anchor,
        )  # fmt: skip
        assert done.code == 1, done.err
        assert f"seq {doomed['seq']} is missing" in done.out
        assert "inside checkpoint #" in done.out
    manifest, files = running.store_job(lambda store: export_bundle(store, _request(running)))
    write_bundle(tmp_path / "bundle.tar", manifest, files)
    roots = TrustedRoots.from_paths([running.settings.attestation.roots[0]])
    report = verify_bundle(read_bundle(tmp_path / "bundle.tar"), roots_for=lambda _p: roots)
    missing = [f for f in report.failures if f.check == "transparency.missing"]
    assert [f.reason.split(" is missing")[0] for f in missing] == [f"seq {doomed['seq']}"]


def test_an_altered_receipt_fails_its_signature_by_name(running: Running, tmp_path: Path) -> None:
    wait_checkpointed(running)
    target = running.receipts()[2]
    altered = target["receipt"]
    altered["body"]["model"] = "a-cheaper-model"
    raw = orjson.dumps(altered, option=orjson.OPT_SORT_KEYS)
    with sqlite3.connect(running.db) as conn:
        conn.execute("UPDATE receipts SET raw = ? WHERE id = ?", (raw, target["id"]))
    manifest, files = running.store_job(lambda store: export_bundle(store, _request(running)))
    write_bundle(tmp_path / "bundle.tar", manifest, files)
    roots = TrustedRoots.from_paths([running.settings.attestation.roots[0]])
    report = verify_bundle(read_bundle(tmp_path / "bundle.tar"), roots_for=lambda _p: roots)
    (bad,) = [f for f in report.failures if f.check == "receipt.signature"]
    assert f"seq {target['seq']}" in bad.subject
    (row,) = [r for r in report.receipts if r.seq == target["seq"]]
    assert not row.ok and row.model == "a-cheaper-model"


def _request(run: Running) -> ExportRequest:
    policy = run.settings.attestation.policy
    assert policy is not None
    return ExportRequest(
        since_ms=None, until_ms=None, tenant=None, policy=policy.read_bytes(),
        contract=run.env.deployment.anchor,
    )  # fmt: skip
