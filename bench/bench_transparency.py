"""Transparency costs: gas per checkpoint and per transcript through the publisher, and
``veritee verify bundle`` throughput on one core.

Run from the repository root (anvil needs ``npm ci``)::

    .venv/bin/python -m bench.bench_transparency                 # both chains, 20,480 receipts
    .venv/bin/python -m bench.bench_transparency --chain eth-tester --receipts 4096 --runs 1

1. **Gas.** For checkpoints of 1, 64, 1,024 and 10,000 receipts it stores the checkpoints of
   one registered signer in a gateway store (SQLite) and lets the publisher
   (``gateway.anchoring.publisher``) anchor them, as ``veritee anchor run`` does; the gas is
   each transaction's ``gasUsed`` as the publisher recorded it. The receipt ids are
   synthetic (the contract sees only the root). From the median it derives what a
   transcript of 10,000 receipts costs when cut into checkpoints of each size.
2. **Verification.** It signs a transcript of ``--receipts`` receipts (one enclave, simulated
   SEV-SNP evidence, checkpoints of 64), exports it as an audit bundle from a store, and
   times ``verify_bundle`` (what ``veritee verify bundle`` runs, offline) pinned to one CPU,
   next to ``verify_receipt_log`` alone (signatures, keyset binding, hash chain) on the same
   receipts, so the bundle's own share is visible. With a chain it also times the
   on-chain check of the same bundle anchored in checkpoints of 1,024.

Results go in ``docs/benchmarks.md`` ("Transparency").
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import math
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from attestation.document import AttestationDocument
from attestation.keyset import Keyset, bind_report_data
from attestation.simulated.snp import SimulatedSnpProvider
from bench.bench_anchor import chain
from gateway.anchoring.chain import AnchorChain
from gateway.anchoring.publisher import Publisher
from gateway.audit.export import ExportRequest, export_bundle
from gateway.store.base import AttestationRecord, StoredReceipt
from gateway.store.memory import MemoryStore
from gateway.store.sqlite import SqliteStore
from transcript import ReceiptBody, SigningKey, Upstream, build_checkpoint, sign_receipt
from transcript.checkpoint import ZERO32, SignedCheckpoint
from verifier.anchor import (
    AnchorClient,
    RegistryClient,
    TransactionSender,
    deploy,
    funded_account,
)
from verifier.audit import read_bundle, verify_bundle, write_bundle
from verifier.receipts import read_receipt_lines, verify_receipt_log
from verifier.trust import TrustedRoots

SIZES = (1, 64, 1024, 10_000)
TRANSCRIPT = 10_000
REPEATS = 3
MEASUREMENT = "5e" * 48
POLICY = f'[policy]\nplatforms = ["sev-snp"]\n\n[sev-snp]\nmeasurements = ["{MEASUREMENT}"]\n'
T0_MS = 1_767_225_600_000


def anchor_chain(w3: Any) -> tuple[AnchorChain, RegistryClient]:
    sender = TransactionSender(w3, funded_account(w3))
    deployment = deploy(sender)
    registry = RegistryClient(w3, deployment.registry, sender=sender)
    chain_ = AnchorChain(w3, sender, AnchorClient(w3, deployment.anchor, sender=sender),
                         registry, deployment.chain_id, deployment.block_number)  # fmt: skip
    return chain_, registry


def synthetic_checkpoints(key: SigningKey, sizes: list[int]) -> list[SignedCheckpoint]:
    out: list[SignedCheckpoint] = []
    seq, prev = 1, ZERO32
    for size in sizes:
        ids = [hashlib.sha256(b"%d" % n).digest() for n in range(seq, seq + size)]
        signed, _ = build_checkpoint(key, receipt_ids=ids, first_seq=seq, prev=prev,
                                     keyset=b"\x07" * 32, time_ms=T0_MS + seq)  # fmt: skip
        out.append(signed)
        seq, prev = signed.checkpoint.last_seq + 1, signed.hash
    return out


def bench_gas(name: str) -> dict[str, Any]:
    with chain(name) as w3, tempfile.TemporaryDirectory() as tmp:
        anchoring, registry = anchor_chain(w3)
        key = SigningKey.generate()
        registry.register(key.address, measurement=os.urandom(32), evidence_hash=os.urandom(32))
        sizes = [1] + [size for size in SIZES for _ in range(REPEATS)]
        checkpoints = synthetic_checkpoints(key, sizes)

        async def publish() -> tuple[list[Any], float]:
            async with SqliteStore(Path(tmp) / "gateway.db", synchronous="normal") as store:
                await store.put_checkpoints("bench", checkpoints)
                started = time.perf_counter()
                await Publisher(store=store, chain=anchoring, max_per_round=len(sizes)).round()
                elapsed = time.perf_counter() - started
                return await store.anchor_records(anchoring.contract, key.address), elapsed

        records, elapsed = asyncio.run(publish())
    assert len(records) == len(sizes) and all(r.state == "confirmed" for r in records)
    per_size: dict[int, list[int]] = {}
    for size, record in zip(sizes[1:], records[1:], strict=True):
        per_size.setdefault(size, []).append(int(record.gas_used or 0))
    return {
        "chain": name,
        "first": int(records[0].gas_used or 0),
        "per_size": per_size,
        "ms_per_checkpoint": 1000 * elapsed / len(sizes),
    }


def signed_transcript(count: int, every: int, state: Path) -> tuple[Any, ...]:
    key = SigningKey.from_secret(hashlib.sha256(b"bench transparency").digest())
    keyset = Keyset(signing_public_key=key.public_key, image_digest="sha256:" + "de" * 32,
                    platform="sev-snp", not_before_ms=0, not_after_ms=2**50)  # fmt: skip
    nonce = hashlib.sha256(b"nonce").digest()
    provider = SimulatedSnpProvider(state, measurement=bytes.fromhex(MEASUREMENT))
    document = AttestationDocument(
        provider.get_evidence(bind_report_data(keyset.hash(), nonce)), keyset, nonce
    )
    receipts, checkpoints = [], []
    prev = "0" * 64
    for seq in range(1, count + 1):
        body = ReceiptBody(
            signer=key.address, keyset=keyset.hash().hex(), seq=seq, prev=prev,
            time_ms=T0_MS + seq, request_sha256=hashlib.sha256(b"q%d" % seq).hexdigest(),
            response_sha256=hashlib.sha256(b"r%d" % seq).hexdigest(), stream=bool(seq % 2),
            status="complete", http_status=200, model="gpt-4o-mini",
            upstream=Upstream(provider="openai", host="api.openai.com",
                              request_id=f"req_{seq:012d}", status=200,
                              spki_sha256=hashlib.sha256(b"spki").hexdigest(),
                              response_sha256=hashlib.sha256(b"u%d" % seq).hexdigest(),
                              model="gpt-4o-mini-2024-07-18"),
            usage={"prompt_tokens": 120, "completion_tokens": 48, "total_tokens": 168},
        )  # fmt: skip
        receipt = sign_receipt(key, body)
        receipts.append(receipt)
        prev = receipt.id
    for first in range(1, count + 1, every):
        batch = receipts[first - 1 : first - 1 + every]
        signed, _ = build_checkpoint(
            key, receipt_ids=[r.body_hash for r in batch], first_seq=first,
            prev=checkpoints[-1].hash if checkpoints else ZERO32, keyset=keyset.hash(),
            time_ms=batch[-1].body.time_ms,
        )  # fmt: skip
        checkpoints.append(signed)
    return key, keyset, document, receipts, checkpoints


async def fill(store: Any, parts: tuple[Any, ...]) -> None:
    key, keyset, document, receipts, checkpoints = parts
    await store.put_receipts([
        StoredReceipt(id=r.id, raw=r.canonical(), verdict="verified", received_ms=r.body.time_ms,
                      time_ms=r.body.time_ms, signer=key.address, seq=r.body.seq,
                      tenant="bench")
        for r in receipts
    ])  # fmt: skip
    await store.put_checkpoints("bench", checkpoints)
    record = AttestationRecord(
        signer=key.address,
        enclave="bench",
        document=document.to_json(),
        platform="sev-snp",
        keyset_sha256=keyset.hash().hex(),
        verified_at_ms=int(time.time() * 1000),
    )
    await store.put_attestation(record)


def export(
    parts: tuple[Any, ...], path: Path, contract: str | None = None, store: Any = None
) -> None:
    async def run() -> None:
        target = store or MemoryStore()
        if store is None:
            await fill(target, parts)
        manifest, files = await export_bundle(
            target, ExportRequest(None, None, None, POLICY.encode(), contract=contract)
        )
        write_bundle(path, manifest, files)

    asyncio.run(run())


def pin_one_core() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})


def bench_verify(count: int, runs: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        parts = signed_transcript(count, 64, Path(tmp) / "state")
        bundle = Path(tmp) / "bundle.tar"
        export(parts, bundle)
        roots = TrustedRoots.from_paths([Path(tmp) / "state"])
        size = bundle.stat().st_size
        pin_one_core()
        whole, with_rows, log_only = [], [], []
        for _ in range(runs):
            started = time.perf_counter()
            report = verify_bundle(read_bundle(bundle), roots_for=lambda _p: roots, rows=False)
            whole.append(count / (time.perf_counter() - started))
            assert report.ok, report.failures[:3]
            started = time.perf_counter()
            verify_bundle(read_bundle(bundle), roots_for=lambda _p: roots)
            with_rows.append(count / (time.perf_counter() - started))
            raw = read_bundle(bundle).files["receipts.jsonl"]
            started = time.perf_counter()
            log = verify_receipt_log(read_receipt_lines(raw), keysets=[parts[1]], start_seq=None)
            log_only.append(count / (time.perf_counter() - started))
            assert log.ok
    return {"count": count, "runs": runs, "bundle_bytes": size, "bundle_per_s": whole,
            "rows_per_s": with_rows, "log_per_s": log_only}  # fmt: skip


def bench_chain_check(name: str, count: int) -> dict[str, Any]:
    """The same bundle anchored in checkpoints of 1,024, verified with the chain check."""
    from verifier.transparency.chain import read_chain

    with chain(name) as w3, tempfile.TemporaryDirectory() as tmp:
        parts = signed_transcript(count, 1024, Path(tmp) / "state")
        anchoring, registry = anchor_chain(w3)
        registry.register(parts[0].address, measurement=os.urandom(32),
                          evidence_hash=os.urandom(32))  # fmt: skip

        async def publish_and_export() -> None:
            async with SqliteStore(Path(tmp) / "gateway.db", synchronous="normal") as store:
                await fill(store, parts)
                await Publisher(store=store, chain=anchoring, max_per_round=1000).round()
                manifest, files = await export_bundle(
                    store,
                    ExportRequest(None, None, None, POLICY.encode(), contract=anchoring.contract),
                )
                write_bundle(Path(tmp) / "bundle.tar", manifest, files)

        asyncio.run(publish_and_export())
        roots = TrustedRoots.from_paths([Path(tmp) / "state"])
        started = time.perf_counter()
        view = read_chain(w3, anchor=anchoring.contract, signers=[parts[0].address])
        read_s = time.perf_counter() - started
        report = verify_bundle(read_bundle(Path(tmp) / "bundle.tar"), roots_for=lambda _p: roots,
                               chain=view)  # fmt: skip
        total_s = time.perf_counter() - started
        assert report.ok and report.anchored_checkpoints == math.ceil(count / 1024)
    return {"chain": name, "count": count, "read_chain_s": read_s, "total_s": total_s}


def report(gas: list[dict[str, Any]], verify: dict[str, Any] | None,
           chained: list[dict[str, Any]]) -> str:  # fmt: skip
    names = [g["chain"] for g in gas]
    lines = []
    if gas:
        lines += ["| gas, through the publisher | " + " | ".join(names) + " |",
                  "|---|" + "---:|" * len(names)]  # fmt: skip
        lines.append(
            "| first checkpoint of a signer | " + " | ".join(f"{g['first']:,}" for g in gas) + " |"
        )
        for size in SIZES:
            cells = [f"{min(g['per_size'][size]):,}-{max(g['per_size'][size]):,}" for g in gas]
            lines.append(
                f"| checkpoint of {size:,} receipt{'s' if size > 1 else ''} | "
                + " | ".join(cells)
                + " |"
            )
        lines.append("| publisher wall time per checkpoint, ms | "
                     + " | ".join(f"{g['ms_per_checkpoint']:.1f}" for g in gas) + " |")  # fmt: skip
        lines += ["", f"A transcript of {TRANSCRIPT:,} receipts ({names[0]}, median gas each):", "",
                  "| checkpoint size | checkpoints | gas for the transcript | gas per receipt |",
                  "|---:|---:|---:|---:|"]  # fmt: skip
        for size in SIZES:
            count = math.ceil(TRANSCRIPT / size)
            total = count * int(statistics.median(gas[0]["per_size"][size]))
            lines.append(f"| {size:,} | {count:,} | {total:,} | {total / TRANSCRIPT:,.1f} |")
    if verify:
        b, rows, log = verify["bundle_per_s"], verify["rows_per_s"], verify["log_per_s"]
        lines += ["", f"`verify_bundle` on one core, {verify['count']:,} receipts "
                  f"({verify['bundle_bytes'] / verify['count']:,.0f} bytes each in the bundle), "
                  f"{verify['runs']} runs:", "",
                  "| | median | min | max |", "|---|---:|---:|---:|",
                  f"| verify bundle, receipts/s | {statistics.median(b):,.0f} | {min(b):,.0f} | {max(b):,.0f} |",
            f"| the same, with a verdict row per receipt (--json, --html) | {statistics.median(rows):,.0f} | {min(rows):,.0f} | {max(rows):,.0f} |",
                  f"| receipt log alone, receipts/s | {statistics.median(log):,.0f} | {min(log):,.0f} | {max(log):,.0f} |"]  # fmt: skip
    for c in chained:
        lines.append(f"\nWith the chain check ({c['chain']}, {c['count']:,} receipts in checkpoints "
                     f"of 1,024): reading the anchored history {c['read_chain_s'] * 1000:.0f} ms, "
                     f"whole verification {c['total_s']:.2f} s.")  # fmt: skip
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chain", choices=["eth-tester", "anvil", "both", "none"], default="both")
    parser.add_argument("--receipts", type=int, default=20_480)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    names = {"both": ["eth-tester", "anvil"], "none": []}.get(args.chain, [args.chain])
    gas = [bench_gas(name) for name in names]
    chained = [bench_chain_check(name, min(args.receipts, 10_240)) for name in names]
    verify = bench_verify(args.receipts, args.runs)  # last: it pins this process to one core
    print(report(gas, verify, chained))
    return 0


if __name__ == "__main__":
    sys.exit(main())
