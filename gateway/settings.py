"""Gateway settings: frozen objects, read once from TOML by :mod:`gateway.config`.

Every key is documented in ``docs/gateway.md`` ("Configuration"). The defaults here are
the documented defaults; nothing else in the gateway reads files or the environment for
configuration.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

Strategy = Literal["least-outstanding", "p2c-ewma"]
STRATEGIES: tuple[Strategy, ...] = ("least-outstanding", "p2c-ewma")
Synchronous = Literal["full", "normal"]
ClientImpl = Literal["h1", "aiohttp"]


@dataclass(frozen=True)
class ServerSettings:
    host: str = "127.0.0.1"
    port: int = 8080
    max_body_bytes: int = 4 * 1024 * 1024
    request_log: bool = True  # one JSON line per request (metadata only, never content)


@dataclass(frozen=True)
class EnclaveSettings:
    """One enclave the gateway may route to, once its evidence verifies."""

    name: str
    url: str  # base URL, e.g. http://10.0.0.5:8000 (no trailing slash)


@dataclass(frozen=True)
class AttestationSettings:
    """What an enclave must prove to be admitted, and how often it proves it again."""

    policy: Path | None = None  # the operator's policy TOML (verifier.policy); required
    roots: tuple[Path, ...] = ()  # PEM/DER files or directories of trusted roots
    shipped_roots: tuple[str, ...] = ()  # names in verifier.trust.SHIPPED (e.g. "amd")
    collateral: Path | None = None  # TDX/SNP collateral: a directory or a JSON bundle
    fetch_collateral_cache: Path | None = None  # fetch from Intel PCS / AMD KDS, caching here
    reattest_seconds: float = 300.0
    keyset_poll_seconds: float = 5.0
    timeout_seconds: float = 10.0
    retry_seconds: float = 5.0  # after a failed admission, try again this much later


@dataclass(frozen=True)
class BalancerSettings:
    strategy: Strategy = "least-outstanding"
    ewma_half_life_seconds: float = 10.0


@dataclass(frozen=True)
class HealthSettings:
    interval_seconds: float = 2.0
    timeout_seconds: float = 1.0
    failure_threshold: int = 3  # consecutive failures that open the circuit breaker
    cooldown_seconds: float = 10.0


@dataclass(frozen=True)
class RetrySettings:
    max_attempts: int = 3  # attempts per request, across enclaves (1 = never retry)
    max_retry_after_seconds: float = 10.0  # longer Retry-After values are passed through
    backoff_seconds: float = 0.05  # pause before retrying when no other enclave is free


@dataclass(frozen=True)
class EnclaveClientSettings:
    implementation: ClientImpl = "h1"  # the lean httptools client, or aiohttp
    connect_timeout_seconds: float = 2.0
    read_timeout_seconds: float = 300.0
    max_connections: int = 1024
    ca_bundle: Path | None = None  # PEM CAs for https:// enclave URLs (default: system store)


@dataclass(frozen=True)
class StoreSettings:
    """``url``: ``sqlite:///path/to/file.db`` or ``postgresql://...`` (the ``postgres`` extra)."""

    url: str = "sqlite:///veritee-gateway.db"
    sqlite_synchronous: Synchronous = "full"
    batch_max: int = 256
    sync_seconds: float = 10.0  # how often enclave checkpoints and receipt logs are fetched


@dataclass(frozen=True)
class TenantSettings:
    refresh_seconds: float = 5.0


@dataclass(frozen=True)
class RateLimitSettings:
    redis_url: str | None = None  # shared limits (the ``redis`` extra); in memory otherwise
    window_seconds: float = 60.0  # rpm/tpm are "per window"; 60 s makes them per minute
    key_prefix: str = "veritee:rl:"


@dataclass(frozen=True)
class Settings:
    enclaves: tuple[EnclaveSettings, ...] = ()
    server: ServerSettings = field(default_factory=ServerSettings)
    attestation: AttestationSettings = field(default_factory=AttestationSettings)
    balancer: BalancerSettings = field(default_factory=BalancerSettings)
    health: HealthSettings = field(default_factory=HealthSettings)
    retry: RetrySettings = field(default_factory=RetrySettings)
    enclave_client: EnclaveClientSettings = field(default_factory=EnclaveClientSettings)
    store: StoreSettings = field(default_factory=StoreSettings)
    tenants: TenantSettings = field(default_factory=TenantSettings)
    ratelimit: RateLimitSettings = field(default_factory=RateLimitSettings)
