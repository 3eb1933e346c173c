"""Rate limits: the GCRA rule (with a fake clock), its headers, and the Redis limiter."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.errors import ApiError
from gateway.store.base import ApiKeyRecord
from gateway.tenants.limits import Decision, MemoryLimiter, decide, duration
from gateway.tenants.redis_limits import RedisLimiter
from tests.helpers.services import Service, free_port


def key(rpm: int | None = None, tpm: int | None = None, key_id: str = "key_a") -> ApiKeyRecord:
    return ApiKeyRecord(
        key_id=key_id, tenant="t", key_sha256="0" * 64, created_ms=0, rpm=rpm, tpm=tpm
    )


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def admit_many(
    limiter: MemoryLimiter | RedisLimiter, record: ApiKeyRecord, n: int
) -> list[Decision]:
    async def main() -> list[Decision]:
        return [await limiter.admit(record) for _ in range(n)]

    return asyncio.run(main())


def test_a_burst_of_rpm_then_one_per_interval() -> None:
    clock = Clock()
    limiter = MemoryLimiter(60.0, clock=clock)
    record = key(rpm=3)
    decisions = admit_many(limiter, record, 5)
    assert [d.allowed for d in decisions] == [True, True, True, False, False]
    assert [d.remaining_requests for d in decisions[:3]] == [2, 1, 0]
    refused = decisions[3]
    assert refused.retry_after == pytest.approx(20.0)
    assert refused.headers()["retry-after"] == "20"
    assert refused.headers()["x-ratelimit-reset-requests"] == "1m0s"
    clock.now += 19.9
    assert not admit_many(limiter, record, 1)[0].allowed
    clock.now += 0.1
    assert [d.allowed for d in admit_many(limiter, record, 2)] == [True, False]


def test_tokens_are_charged_after_the_fact_and_may_run_into_debt() -> None:
    clock = Clock()
    limiter = MemoryLimiter(60.0, clock=clock)
    record = key(tpm=600)  # 10 tokens a second
    assert admit_many(limiter, record, 1)[0].allowed
    asyncio.run(limiter.charge_tokens(record, 900))  # over the budget: 90 s of debt
    refused = admit_many(limiter, record, 1)[0]
    assert not refused.allowed
    assert refused.remaining_tokens == 0
    assert refused.reset_tokens == pytest.approx(90.0)
    assert refused.retry_after == pytest.approx(30.1)
    clock.now += 30.1
    allowed = admit_many(limiter, record, 1)[0]
    assert allowed.allowed and allowed.remaining_tokens == 1


def test_unlimited_keys_carry_no_headers() -> None:
    decision = admit_many(MemoryLimiter(60.0), key(), 1)[0]
    assert decision.allowed and decision.headers() == {}


def test_keys_do_not_share_budgets() -> None:
    limiter = MemoryLimiter(60.0, clock=Clock())
    assert admit_many(limiter, key(rpm=1, key_id="a"), 2)[1].allowed is False
    assert admit_many(limiter, key(rpm=1, key_id="b"), 1)[0].allowed is True


@given(
    rpm=st.integers(1, 50),
    gaps=st.lists(st.floats(0, 10, allow_nan=False), min_size=1, max_size=60),
)
def test_never_more_than_the_bucket_allows(rpm: int, gaps: list[float]) -> None:
    """Whatever the arrival pattern, any span of t seconds admits at most rpm + t * rpm / W:
    a full bucket of rpm requests, refilled continuously at rpm per window."""
    window = 60.0
    tat = now = 0.0
    admitted: list[float] = []
    for gap in gaps:
        now += gap
        decision, new_tat = decide(
            now=now, window=window, rpm=rpm, tpm=None, request_tat=tat, token_tat=now
        )
        if decision.allowed:
            tat = new_tat
            admitted.append(now)
            assert decision.remaining_requests is not None and decision.remaining_requests >= 0
    for i, start in enumerate(admitted):
        for j in range(i, len(admitted)):
            span = admitted[j] - start
            assert j - i + 1 <= rpm + span * rpm / window + 1e-6


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0.25, "250ms"), (0, "0ms"), (1, "1s"), (59.2, "1m0s"), (61, "1m1s"), (3725, "1h2m5s")],
)
def test_duration_format(seconds: float, text: str) -> None:
    assert duration(seconds) == text


def test_redis_limits_match_the_rule(redis_service: Service) -> None:
    async def main() -> tuple[list[Decision], Decision, Decision]:
        limiter = RedisLimiter(redis_service.url, window_seconds=3600, prefix="test:a:")
        try:
            record = key(rpm=3, tpm=1000, key_id="key_redis")
            burst = [await limiter.admit(record) for _ in range(4)]
            await limiter.charge_tokens(record, 5000)
            after = await limiter.admit(key(rpm=3, tpm=1000, key_id="key_redis"))
            other = await limiter.admit(key(rpm=3, key_id="key_other"))
            return burst, after, other
        finally:
            await limiter.close()

    burst, after, other = asyncio.run(main())
    assert [d.allowed for d in burst] == [True, True, True, False]
    assert [d.remaining_requests for d in burst] == [2, 1, 0, 0]
    assert burst[3].retry_after == pytest.approx(1200, abs=5)
    assert burst[0].remaining_tokens == 1000 and burst[0].limit_tokens == 1000
    assert not after.allowed and after.remaining_tokens == 0
    assert other.allowed


def test_redis_down_refuses_with_503() -> None:
    async def main() -> None:
        limiter = RedisLimiter(f"redis://127.0.0.1:{free_port()}/0", window_seconds=60)
        try:
            await limiter.admit(key(rpm=1))
        finally:
            await limiter.close()

    with pytest.raises(ApiError) as caught:
        asyncio.run(main())
    assert caught.value.status == 503 and caught.value.headers["retry-after"] == "1"
