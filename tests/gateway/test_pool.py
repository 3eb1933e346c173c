"""The pool's states, its monitor, the balancers and the key registry, with fakes and a clock."""

from __future__ import annotations

import asyncio
import hashlib
import random

import pytest

from gateway.errors import ApiError, EnclaveUnavailable
from gateway.fake_transport import FakeReply, FakeRequest, FakeTransport
from gateway.obs.metrics import Metrics
from gateway.pool.balancer import LeastOutstanding, PowerOfTwoEwma
from gateway.pool.member import Member, State
from gateway.pool.monitor import Monitor
from gateway.pool.pool import Pool
from gateway.settings import AttestationSettings, EnclaveSettings, HealthSettings
from gateway.store.base import ApiKeyRecord
from gateway.store.memory import MemoryStore
from gateway.tenants.keys import generate_key, hash_key
from gateway.tenants.registry import TenantRegistry, model_allowed
from tests.gateway.fakes import MODEL, SigningEnclave


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Rig:
    """One enclave behind a fake transport; the test decides how it answers."""

    def __init__(self) -> None:
        self.enclave = SigningEnclave("a", 1)
        self.clock = Clock()
        self.attests = 0
        self.ready: int | Exception = 200
        self.keyset = b"{}"
        health = HealthSettings(failure_threshold=2, cooldown_seconds=5.0, interval_seconds=1.0)
        attestation = AttestationSettings(
            reattest_seconds=300, keyset_poll_seconds=1.0, retry_seconds=3
        )
        self.pool = Pool(
            [EnclaveSettings("a", self.enclave.url)], attester=self, balancer=LeastOutstanding(),
            health=health, attestation=attestation, half_life=10.0, metrics=Metrics(),
            monotonic=self.clock,
        )  # fmt: skip
        self.monitor = Monitor(
            self.pool, FakeTransport(self.handle), health=health, attestation=attestation,
            monotonic=self.clock,
        )  # fmt: skip
        self.member: Member = self.pool.members["a"]

    async def attest(self, base_url: str) -> tuple[object, frozenset[str]]:
        self.attests += 1
        identity = self.enclave.identity()
        return identity, frozenset({MODEL})

    async def handle(self, request: FakeRequest) -> FakeReply:
        if request.url.endswith("/readyz"):
            if isinstance(self.ready, Exception):
                raise self.ready
            return FakeReply(self.ready, {}, [b"{}"])
        if request.url.endswith("/v1/keyset"):
            return FakeReply(200, {}, [self.keyset])
        raise AssertionError(request.url)

    def step(self) -> None:
        asyncio.run(self.monitor.step(self.member))


def admitted() -> Rig:
    rig = Rig()
    rig.step()  # pending: attested at once
    assert rig.member.state is State.ADMITTED and rig.attests == 1
    rig.enclave.keyset_hash = hashlib.sha256(rig.keyset).hexdigest()
    rig.member.identity = rig.enclave.identity()
    return rig


def test_a_changed_keyset_is_verified_again() -> None:
    rig = admitted()
    rig.clock.now += 1
    rig.step()
    assert rig.attests == 1  # same keyset: nothing to do
    rig.keyset = b'{"restarted": true}'
    rig.clock.now += 1
    rig.step()
    assert rig.attests == 2


def test_a_refused_health_check_takes_the_member_out_until_it_verifies_again() -> None:
    rig = admitted()
    rig.ready = EnclaveUnavailable("refused", refused=True)
    rig.step()
    assert rig.member.state is State.UNREACHABLE
    assert rig.pool.pick(MODEL) is None
    rig.ready = 200
    rig.step()  # its retry time has come: fresh evidence first
    assert rig.member.state is State.ADMITTED and rig.attests == 2


def test_repeated_failures_open_the_breaker_for_a_cool_down() -> None:
    rig = admitted()
    rig.ready = 503
    rig.step()
    assert rig.member.state is State.ADMITTED and rig.member.failures == 1
    rig.step()
    assert rig.member.state is State.COOLING_DOWN
    rig.ready = 200
    rig.clock.now += 4.9
    rig.step()
    assert rig.member.state is State.COOLING_DOWN
    rig.clock.now += 0.2
    rig.step()
    assert rig.member.state is State.ADMITTED and rig.member.failures == 0 and rig.attests == 2


def members(*outstanding: int, ewma: tuple[float | None, ...] | None = None) -> list[Member]:
    out = []
    for i, n in enumerate(outstanding):
        member = Member(f"m{i}", f"http://m{i}", outstanding=n)
        member.ewma = ewma[i] if ewma else None
        out.append(member)
    return out


def test_least_outstanding_takes_the_idlest_and_spreads_ties() -> None:
    balancer = LeastOutstanding()
    assert balancer.choose(members(3, 1, 2)).name == "m1"
    tied = members(0, 0, 5)
    assert {balancer.choose(tied).name for _ in range(4)} == {"m0", "m1"}


def test_power_of_two_prefers_the_cheaper_of_two() -> None:
    balancer = PowerOfTwoEwma(random.Random(7))
    fast_but_busy, slow_and_idle = members(9, 0, ewma=(0.001, 0.050))
    picks = [balancer.choose([fast_but_busy, slow_and_idle]).name for _ in range(20)]
    assert set(picks) == {"m0"}  # 0.001 * 10 < 0.050 * 1
    unknown = members(0, 0, ewma=(None, 0.010))
    assert balancer.choose(unknown).name in {"m0", "m1"}


def test_ewma_decays_with_time() -> None:
    member = Member("m", "http://m")
    member.observe_latency(0.010, now=0.0, half_life=10.0)
    member.observe_latency(0.030, now=10.0, half_life=10.0)  # one half-life later: halfway
    assert member.ewma == pytest.approx(0.020)


def test_registry_finds_new_keys_refuses_revoked_ones_and_patterns() -> None:
    async def main() -> None:
        store = MemoryStore()
        registry = TenantRegistry(store, refresh_seconds=60)
        await registry.load()
        key = generate_key()
        record = ApiKeyRecord("key_1", "acme", hash_key(key), 1, models=("gpt-4o*",))
        await store.add_key(record)
        assert await registry.authenticate(f"Bearer {key}") == record  # made after the load
        await store.revoke_key("key_1", 2)
        await registry.load()
        with pytest.raises(ApiError) as caught:
            await registry.authenticate(f"Bearer {key}")
        assert caught.value.status == 401 and "revoked" in caught.value.message
        for header in (None, "Basic abc", "Bearer short", f"Bearer {generate_key()}"):
            with pytest.raises(ApiError):
                await registry.authenticate(header)

    asyncio.run(main())
    assert model_allowed(("gpt-4o*",), "gpt-4o-mini")
    assert not model_allowed(("gpt-4o*",), "gpt-5")
    assert model_allowed(("*",), "anything") and model_allowed(("exact",), "exact")
