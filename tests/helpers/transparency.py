"""Enclaves on paper, for transparency tests: a real key, a real keyset bound into simulated
SEV-SNP evidence, real signed receipts and checkpoints, and a gateway store holding them.

:class:`PaperEnclave` signs exactly what an enclave would (receipts chained by seq and
prev, checkpoints over consecutive ranges) without running one, so a test can build a
store of any shape quickly: thousands of receipts, gaps, forks, altered rows.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from attestation.document import AttestationDocument
from attestation.keyset import Keyset, bind_report_data
from attestation.simulated.snp import SimulatedSnpProvider
from gateway.anchoring.chain import AnchorChain
from gateway.store.base import AttestationRecord, StoredReceipt
from gateway.store.sqlite import SqliteStore
from tests.helpers.chains import ChainEnv
from tests.helpers.snp import simulated_state_dir
from transcript import (
    MerkleTree,
    Receipt,
    ReceiptBody,
    SignedCheckpoint,
    SigningKey,
    Upstream,
    build_checkpoint,
    sign_receipt,
)
from transcript.checkpoint import ZERO32
from verifier.anchor import AnchorClient, RegistryClient, TransactionSender

T = TypeVar("T")
MEASUREMENT = "5e" * 48
T0_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z
POLICY = f'[policy]\nplatforms = ["sev-snp"]\n\n[sev-snp]\nmeasurements = ["{MEASUREMENT}"]\n'


def provider() -> SimulatedSnpProvider:
    return SimulatedSnpProvider(simulated_state_dir(), measurement=bytes.fromhex(MEASUREMENT))


def roots_dir() -> Path:
    """The simulated AMD roots (what a verifier must be given explicitly)."""
    provider()  # creates the state on first use
    return simulated_state_dir()


@dataclass
class PaperEnclave:
    name: str = "enclave-a"
    key: SigningKey = field(default_factory=SigningKey.generate)
    receipts: list[Receipt] = field(default_factory=list)
    checkpoints: list[SignedCheckpoint] = field(default_factory=list)
    trees: list[MerkleTree] = field(default_factory=list)
    tenants: dict[str, str] = field(default_factory=dict)  # receipt id -> tenant
    since: int = 0  # a block before its first anchoring, where event scans may start

    def __post_init__(self) -> None:
        self.keyset = Keyset(
            signing_public_key=self.key.public_key,
            image_digest="sha256:" + "de" * 32,
            platform="sev-snp",
            not_before_ms=0,
            not_after_ms=2**50,
        )
        nonce = hashlib.sha256(self.name.encode() + self.key.public_key).digest()
        evidence = provider().get_evidence(bind_report_data(self.keyset.hash(), nonce))
        self.document = AttestationDocument(evidence, self.keyset, nonce)
        self.verified_at_ms = int(time.time() * 1000)

    @property
    def address(self) -> str:
        return self.key.address

    def sign(self, count: int, *, tenant: str = "acme") -> list[Receipt]:
        """``count`` more receipts of this key's chain."""
        made = []
        for _ in range(count):
            seq = len(self.receipts) + 1
            prev = self.receipts[-1].id if self.receipts else "0" * 64
            body = ReceiptBody(
                signer=self.address, keyset=self.keyset.hash().hex(), seq=seq, prev=prev,
                time_ms=T0_MS + seq * 1000,
                request_sha256=hashlib.sha256(b"q%d" % seq).hexdigest(),
                response_sha256=hashlib.sha256(b"r%d" % seq).hexdigest(),
                stream=False, status="complete", http_status=200, model="gpt-4o-mini",
                upstream=Upstream(provider="openai", host="upstream.test", status=200),
                usage={"prompt_tokens": 3, "completion_tokens": 5, "total_tokens": 8},
            )  # fmt: skip
            receipt = sign_receipt(self.key, body)
            self.receipts.append(receipt)
            self.tenants[receipt.id] = tenant
            made.append(receipt)
        return made

    def cut(self) -> SignedCheckpoint:
        """A checkpoint over every receipt not checkpointed yet."""
        first = self.checkpoints[-1].checkpoint.last_seq + 1 if self.checkpoints else 1
        batch = self.receipts[first - 1 :]
        signed, tree = build_checkpoint(
            self.key, receipt_ids=[r.body_hash for r in batch], first_seq=first,
            prev=self.checkpoints[-1].hash if self.checkpoints else ZERO32,
            keyset=self.keyset.hash(), time_ms=batch[-1].body.time_ms,
        )  # fmt: skip
        self.checkpoints.append(signed)
        self.trees.append(tree)
        return signed

    def run(self, *sizes: int, tail: int = 0) -> PaperEnclave:
        """Sign checkpoints of ``sizes`` receipts each, then ``tail`` receipts not cut."""
        for size in sizes:
            self.sign(size)
            self.cut()
        self.sign(tail)
        return self

    def stored(self, receipt: Receipt) -> StoredReceipt:
        body = receipt.body
        return StoredReceipt(
            id=receipt.id, raw=receipt.canonical(), verdict="verified",
            received_ms=body.time_ms, time_ms=body.time_ms, source="response",
            signer=body.signer, seq=body.seq, keyset=body.keyset, model=body.model,
            status=body.status, stream=body.stream, total_tokens=8, enclave=self.name,
            tenant=self.tenants.get(receipt.id),
        )  # fmt: skip

    def attestation(self) -> AttestationRecord:
        return AttestationRecord(
            signer=self.address, enclave=self.name, document=self.document.to_json(),
            platform="sev-snp", keyset_sha256=self.keyset.hash().hex(),
            verified_at_ms=self.verified_at_ms, measurements={"measurement": MEASUREMENT},
        )  # fmt: skip


async def fill(store: Any, *enclaves: PaperEnclave) -> None:
    """Put the enclaves' receipts, checkpoints and attestation documents into ``store``."""
    for enclave in enclaves:
        await store.put_receipts([enclave.stored(r) for r in enclave.receipts])
        await store.put_checkpoints(enclave.name, enclave.checkpoints)
        await store.put_attestation(enclave.attestation())


@contextmanager
def sqlite_store(path: Path) -> Iterator[Callable[[Callable[[SqliteStore], Awaitable[T]]], T]]:
    """``with sqlite_store(p) as use: use(lambda store: ...)``: each call opens the store
    in a fresh event loop, runs the job, and closes it (like separate processes would)."""

    def use(job: Callable[[SqliteStore], Awaitable[T]]) -> T:
        async def main() -> T:
            async with SqliteStore(path, synchronous="normal") as store:
                return await job(store)

        return asyncio.run(main())

    yield use


def anchor_chain(env: ChainEnv, sender: TransactionSender | None = None) -> AnchorChain:
    """The publisher's view of the session's deployment (paying with ``sender``)."""
    sender = sender or env.sender
    return AnchorChain(
        w3=env.w3,
        sender=sender,
        anchor=AnchorClient(env.w3, env.deployment.anchor, sender=sender),
        registry=RegistryClient(env.w3, env.deployment.registry, sender=sender),
        chain_id=int(env.w3.eth.chain_id),
        from_block=env.deployment.block_number,
    )


def register(env: ChainEnv, *enclaves: PaperEnclave) -> None:
    for enclave in enclaves:
        env.registry.register(
            enclave.address,
            measurement=hashlib.sha256(enclave.address.encode()).digest(),
            evidence_hash=hashlib.sha256(enclave.document.evidence.to_json()).digest(),
        )
