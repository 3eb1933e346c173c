"""Receipts signed and verified per second on one core.

Run: ``.venv/bin/python -m bench.bench_receipts [--count N] [--runs R]``. The process pins
itself to one CPU. "Verify" is the whole of ``veritee verify receipts`` minus file reading
and evidence checks: parse each JSONL line, check its signature against the attested key,
its keyset binding and validity window, and the hash chain.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import time
from pathlib import Path

from attestation.keyset import Keyset
from transcript import ReceiptBody, SigningKey, Upstream, sign_receipt
from verifier.receipts import read_receipt_lines, verify_receipt_log

RESULTS = Path(__file__).parent / "results"


def make_bodies(key: SigningKey, keyset: Keyset, count: int) -> list[ReceiptBody]:
    """Realistic bodies; prev links are filled in while signing."""
    return [
        ReceiptBody(
            signer=key.address,
            keyset=keyset.hash().hex(),
            seq=1,
            prev="0" * 64,
            time_ms=1_763_726_400_000,
            request_sha256=hashlib.sha256(b"q%d" % i).hexdigest(),
            response_sha256=hashlib.sha256(b"r%d" % i).hexdigest(),
            stream=bool(i % 2),
            status="complete",
            http_status=200,
            model="gpt-4o-mini",
            upstream=Upstream(
                provider="openai",
                host="api.openai.com",
                request_id=f"req_{i:012d}",
                spki_sha256=hashlib.sha256(b"spki").hexdigest(),
                response_sha256=hashlib.sha256(b"u%d" % i).hexdigest(),
                status=200,
                model="gpt-4o-mini-2024-07-18",
            ),
            usage={"prompt_tokens": 120, "completion_tokens": 48, "total_tokens": 168},
        )
        for i in range(count)
    ]


def sign_chain(key: SigningKey, bodies: list[ReceiptBody]) -> tuple[bytes, float]:
    """Sign a chain (building each body with its seq/prev as the enclave does); return log + seconds."""
    lines = []
    prev = "0" * 64
    start = time.perf_counter()
    for seq, template in enumerate(bodies, 1):
        data = template.to_dict()
        data["seq"], data["prev"] = seq, prev
        receipt = sign_receipt(key, ReceiptBody.from_dict(data))
        prev = receipt.id
        lines.append(receipt.canonical())
    elapsed = time.perf_counter() - start
    return b"\n".join(lines) + b"\n", elapsed


def run(count: int, runs: int) -> dict[str, object]:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    key = SigningKey.from_secret(hashlib.sha256(b"bench").digest())
    keyset = Keyset(
        signing_public_key=key.public_key,
        image_digest="sha256:" + "00" * 32,
        platform="sev-snp",
        not_before_ms=0,
        not_after_ms=2**50,
    )
    bodies = make_bodies(key, keyset, count)
    sign_rates, verify_rates = [], []
    log = b""
    for _ in range(runs):
        log, elapsed = sign_chain(key, bodies)
        sign_rates.append(count / elapsed)
        start = time.perf_counter()
        report = verify_receipt_log(read_receipt_lines(log), keysets=[keyset])
        verify_rates.append(count / (time.perf_counter() - start))
        assert report.ok and report.signatures_ok == count
    return {
        "count": count,
        "runs": runs,
        "bytes_per_receipt": len(log) // count,
        "sign_per_s": {
            "median": statistics.median(sign_rates),
            "min": min(sign_rates),
            "max": max(sign_rates),
        },
        "verify_per_s": {
            "median": statistics.median(verify_rates),
            "min": min(verify_rates),
            "max": max(verify_rates),
        },
        "target_verify_per_s": 20_000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    result = run(args.count, args.runs)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "receipts.json").write_text(json.dumps(result, indent=2))
    sign, verify = result["sign_per_s"], result["verify_per_s"]
    print(
        f"receipts: {args.count} x {args.runs} runs, {result['bytes_per_receipt']} bytes each, one core"
    )
    print(
        f"  signed   per second: median {sign['median']:,.0f} (min {sign['min']:,.0f}, max {sign['max']:,.0f})"
    )  # type: ignore[index]
    print(
        f"  verified per second: median {verify['median']:,.0f} (min {verify['min']:,.0f}, max {verify['max']:,.0f}); target 20,000"
    )  # type: ignore[index]


if __name__ == "__main__":
    main()
