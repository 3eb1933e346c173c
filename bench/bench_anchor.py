"""Anchoring costs: gas per checkpoint, per transcript, and the deployment, on each chain.

Run from the repository root (anvil needs ``npm ci``)::

    .venv/bin/python bench/bench_anchor.py            # eth-tester and anvil
    .venv/bin/python bench/bench_anchor.py --chain anvil

For checkpoints of 1, 64, 1,024 and 10,000 receipts it anchors a chain of checkpoints of
one signer and reports the gas of each ``submitCheckpoint``. The receipt ids are synthetic
(sha256 of a counter): the contract never sees the leaves, only the root, so what they are
cannot change the gas. It also reports the gas a whole transcript of 10,000 receipts costs
when cut into checkpoints of each size, and the wall time of one anchoring (sign nothing,
submit, wait for the receipt) as a rough latency figure. Results go in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import hashlib
import math
import os
import statistics
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from web3 import Web3

from transcript import SigningKey, build_checkpoint
from transcript.checkpoint import ZERO32
from transcript.digest import receipt_digest
from verifier.anchor import (
    AnchorClient,
    Anvil,
    RegistryClient,
    TransactionSender,
    connect,
    deploy,
    funded_account,
)

SIZES = (1, 64, 1024, 10_000)
TRANSCRIPT = 10_000
REPEATS = 5
KEYSET = hashlib.sha256(b"a keyset").digest()  # random-looking, like a real keyset hash
T0_MS = 1_767_225_600_000


@dataclass
class Result:
    chain: str
    deploy_registry: int
    deploy_anchor: int
    register: int
    first_checkpoint: int
    per_size: dict[int, list[int]]
    latency_ms: list[float]
    receipt_signer_call: int


@contextmanager
def chain(name: str) -> Iterator[Web3]:
    if name == "anvil":
        with Anvil() as node:
            yield connect(node.url)
    else:
        yield connect(None)


def gas_in_block(w3: Web3, number: int) -> int:
    return sum(
        int(w3.eth.get_transaction_receipt(tx)["gasUsed"])
        for tx in w3.eth.get_block(number)["transactions"]
    )


def bench(name: str) -> Result:
    with chain(name) as w3:
        sender = TransactionSender(w3, funded_account(w3))
        deployment = deploy(sender)
        registry = RegistryClient(w3, deployment.registry, sender=sender)
        anchor = AnchorClient(w3, deployment.anchor, sender=sender)
        # Dev chains mine one block per transaction: the registry, then the anchor.
        creation = [
            gas_in_block(w3, n) for n in (deployment.block_number - 1, deployment.block_number)
        ]
        key = SigningKey.generate()
        register = registry.register(
            key.address, measurement=os.urandom(32), evidence_hash=os.urandom(32)
        ).gas_used

        seq, prev = 1, ZERO32

        def anchor_next(size: int) -> tuple[int, float]:
            nonlocal seq, prev
            ids = [hashlib.sha256(b"%d" % n).digest() for n in range(seq, seq + size)]
            signed, _ = build_checkpoint(
                key, receipt_ids=ids, first_seq=seq, prev=prev, keyset=KEYSET, time_ms=T0_MS + seq
            )
            start = time.perf_counter()
            gas = anchor.submit(signed).gas_used
            elapsed = (time.perf_counter() - start) * 1000
            seq, prev = signed.checkpoint.last_seq + 1, signed.hash
            return gas, elapsed

        first, _ = anchor_next(1)
        per_size: dict[int, list[int]] = {}
        latency: list[float] = []
        for size in SIZES:
            for _ in range(REPEATS):
                gas, ms = anchor_next(size)
                per_size.setdefault(size, []).append(gas)
                latency.append(ms)
        body = hashlib.sha256(b"body").digest()
        signature = key.sign_digest(receipt_digest(body))
        # A pure function, sent as a transaction to measure exactly what it costs on chain.
        data = anchor.contract.contract.encode_abi("receiptSigner", args=[body, signature])
        receipt_signer = sender.transact(
            contract="TranscriptAnchor", to=anchor.address, data=bytes.fromhex(data[2:])
        ).gas_used
        return Result(
            chain=name,
            deploy_registry=creation[0],
            deploy_anchor=creation[1],
            register=register,
            first_checkpoint=first,
            per_size=per_size,
            latency_ms=latency,
            receipt_signer_call=receipt_signer,
        )


def report(results: list[Result]) -> str:
    names = [r.chain for r in results]
    lines = [
        "| | " + " | ".join(names) + " |",
        "|---|" + "---:|" * len(names),
    ]

    def row(label: str, values: list[str]) -> None:
        lines.append(f"| {label} | " + " | ".join(values) + " |")

    row("deploy EnclaveRegistry", [f"{r.deploy_registry:,}" for r in results])
    row("deploy TranscriptAnchor", [f"{r.deploy_anchor:,}" for r in results])
    row("register an enclave", [f"{r.register:,}" for r in results])
    row("first checkpoint of a signer", [f"{r.first_checkpoint:,}" for r in results])
    for size in SIZES:
        row(
            f"checkpoint of {size:,} receipt{'s' if size > 1 else ''} (min-max of {REPEATS})",
            [f"{min(r.per_size[size]):,}-{max(r.per_size[size]):,}" for r in results],
        )
    row("`receiptSigner` sent as a transaction", [f"{r.receipt_signer_call:,}" for r in results])
    row(
        "submit and wait for the receipt, median ms",
        [f"{statistics.median(r.latency_ms):.1f}" for r in results],
    )
    lines += [
        "",
        f"Gas for a transcript of {TRANSCRIPT:,} receipts, by checkpoint size "
        "(steady-state checkpoints, median gas each):",
        "",
        "| checkpoint size | checkpoints | " + " | ".join(names) + " | gas per receipt |",
        "|---:|---:|" + "---:|" * len(names) + "---:|",
    ]
    for size in SIZES:
        count = math.ceil(TRANSCRIPT / size)
        totals = [count * int(statistics.median(r.per_size[size])) for r in results]
        per_receipt = totals[0] / TRANSCRIPT
        lines.append(
            f"| {size:,} | {count:,} | "
            + " | ".join(f"{t:,}" for t in totals)
            + f" | {per_receipt:,.1f} |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chain", choices=["eth-tester", "anvil", "both"], default="both")
    args = parser.parse_args()
    names = ["eth-tester", "anvil"] if args.chain == "both" else [args.chain]
    print(report([bench(name) for name in names]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
