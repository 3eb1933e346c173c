"""Attestation evidence: bound to the keyset, single-flight per nonce, rate-limited."""

from __future__ import annotations

import asyncio
import threading

import pytest

from attestation.evidence import Evidence, Platform
from enclave.attest import AttestationService, TokenBucket
from enclave.errors import ApiError
from tests.enclave.helpers import identity


class CountingProvider:
    """Evidence whose report is the report data; can hold a call until released."""

    name = "counting"
    platform: Platform = "sev-snp"

    def __init__(self) -> None:
        self.calls: list[bytes] = []
        self.release = threading.Event()
        self.release.set()

    def get_evidence(self, report_data: bytes) -> Evidence:
        self.release.wait(10)
        self.calls.append(report_data)
        return Evidence(
            platform="sev-snp", report=b"R" + report_data, report_data=report_data, provider="c"
        )


class ManualClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_boot_and_fresh_evidence_bind_the_keyset() -> None:
    ident = identity()
    provider = CountingProvider()
    service = AttestationService(provider, ident, bucket=TokenBucket(1, 5))

    async def run() -> tuple[Evidence, Evidence]:
        boot = await service.start()
        return boot, await service.fresh(b"\x07" * 32)

    boot, fresh = asyncio.run(run())
    assert boot.report_data == ident.keyset_hash + b"\x00" * 32
    assert fresh.report_data == ident.keyset_hash + b"\x07" * 32


def test_concurrent_requests_for_one_nonce_share_one_generation() -> None:
    provider = CountingProvider()
    service = AttestationService(provider, identity(), bucket=TokenBucket(1, 1))
    provider.release.clear()

    async def run() -> list[Evidence]:
        tasks = [asyncio.ensure_future(service.fresh(b"\x01" * 32)) for _ in range(5)]
        await asyncio.sleep(0.05)
        provider.release.set()
        return await asyncio.gather(*tasks)

    results = asyncio.run(run())
    assert len(provider.calls) == 1, "one generation for five callers (and one token)"
    assert all(r is results[0] for r in results)


def test_fresh_evidence_is_rate_limited() -> None:
    clock = ManualClock()
    provider = CountingProvider()
    service = AttestationService(provider, identity(), bucket=TokenBucket(1, 2, monotonic=clock))

    async def fresh(n: int) -> Evidence:
        return await service.fresh(bytes([n]) * 32)

    asyncio.run(fresh(1))
    asyncio.run(fresh(2))
    with pytest.raises(ApiError) as info:
        asyncio.run(fresh(3))
    assert info.value.status == 429
    clock.now = 1.0
    asyncio.run(fresh(4))
    assert len(provider.calls) == 3
