"""``create_app(settings)``: the gateway's ASGI app. Nothing happens at import time.

The app builds its parts from the frozen settings (the I/O seams can be replaced, for
tests: ``transport``, ``store``, ``limiter``, the clocks). When it starts it opens the
store, loads the key table, and starts the background tasks: the pool monitor (which
admits enclaves as their evidence verifies), the key table refresh and the log sync.
Its parts are reachable as ``app.state.gateway`` (:class:`Gateway`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.aiohttp_transport import AiohttpTransport
from gateway.api.chat import ChatEndpoint
from gateway.api.info import info_routes
from gateway.api.receipts import receipt_routes
from gateway.clock import Monotonic, WallMs, monotonic, wall_ms
from gateway.envelope import error_response
from gateway.errors import ApiError, ConfigError
from gateway.h1_transport import H1Transport
from gateway.obs.metrics import Metrics
from gateway.pool.admission import Attester
from gateway.pool.balancer import make_balancer
from gateway.pool.logsync import LogSync
from gateway.pool.monitor import Monitor
from gateway.pool.pool import Pool
from gateway.proxy.forward import Forwarder
from gateway.proxy.ingest import ReceiptIngest
from gateway.settings import AttestationSettings, EnclaveClientSettings, Settings
from gateway.store import Store, open_store
from gateway.tenants.limits import Limiter, MemoryLimiter
from gateway.tenants.registry import TenantRegistry
from gateway.transport import Transport
from verifier.collateral import open_collateral
from verifier.errors import BadInput
from verifier.policy import Policy
from verifier.trust import TrustedRoots

log = logging.getLogger("gateway")


@dataclass
class Gateway:
    """The parts of a running gateway (for tests and the demo)."""

    settings: Settings
    pool: Pool
    monitor: Monitor
    store: Store
    registry: TenantRegistry
    limiter: Limiter
    metrics: Metrics
    logsync: LogSync


def load_trust(settings: AttestationSettings) -> tuple[Policy, TrustedRoots]:
    """The operator's policy and trusted roots; both must be given explicitly."""
    if settings.policy is None:
        raise ConfigError(
            "a policy file is required (see docs/policy.md)", key="attestation.policy"
        )
    if not settings.roots and not settings.shipped_roots:
        raise ConfigError(
            "give trusted roots (files or directories) or shipped_roots names",
            key="attestation.roots",
        )
    try:
        policy = Policy.load(settings.policy)
        roots = TrustedRoots()
        if settings.roots:
            roots = roots + TrustedRoots.from_paths(list(settings.roots))
        if settings.shipped_roots:
            roots = roots + TrustedRoots.shipped(*settings.shipped_roots)
    except BadInput as exc:
        raise ConfigError(exc.reason, key="attestation") from None
    except OSError as exc:
        raise ConfigError(f"{exc.strerror or exc}: {exc.filename}", key="attestation") from None
    return policy, roots


def make_transport(client: EnclaveClientSettings) -> Transport:
    context = None
    if client.ca_bundle is not None:
        context = ssl.create_default_context(cafile=str(client.ca_bundle))
    if client.implementation == "aiohttp":
        return AiohttpTransport(
            connect_timeout=client.connect_timeout_seconds,
            read_timeout=client.read_timeout_seconds,
            max_connections=client.max_connections,
            ssl_context=context,
        )
    return H1Transport(
        connect_timeout=client.connect_timeout_seconds,
        read_timeout=client.read_timeout_seconds,
        max_connections=client.max_connections,
        ssl_context=context,
    )


def make_limiter(settings: Settings) -> Limiter:
    rl = settings.ratelimit
    if rl.redis_url:
        from gateway.tenants.redis_limits import RedisLimiter

        return RedisLimiter(rl.redis_url, window_seconds=rl.window_seconds, prefix=rl.key_prefix)
    return MemoryLimiter(rl.window_seconds)


def create_app(
    settings: Settings,
    *,
    transport: Transport | None = None,
    store: Store | None = None,
    limiter: Limiter | None = None,
    collateral: Any = None,
    clock_ms: WallMs = wall_ms,
    clock: Monotonic = monotonic,
) -> Starlette:
    policy, roots = load_trust(settings.attestation)
    if collateral is None:
        collateral = open_collateral(
            settings.attestation.collateral, fetch_cache=settings.attestation.fetch_collateral_cache
        )
    metrics = Metrics()
    own_transport = transport is None
    active = transport or make_transport(settings.enclave_client)
    store = store or open_store(settings.store, on_commit=metrics.observe_commit)
    limiter = limiter or make_limiter(settings)
    attester = Attester(
        active, roots=roots, policy=policy, timeout=settings.attestation.timeout_seconds,
        clock_ms=clock_ms, collateral=collateral,
    )  # fmt: skip
    pool = Pool(
        settings.enclaves, attester=attester, balancer=make_balancer(settings.balancer.strategy),
        health=settings.health, attestation=settings.attestation,
        half_life=settings.balancer.ewma_half_life_seconds, metrics=metrics, monotonic=clock,
    )  # fmt: skip
    metrics.watch_pool(pool.snapshot)
    registry = TenantRegistry(store, refresh_seconds=settings.tenants.refresh_seconds)
    ingest = ReceiptIngest(store, pool, metrics, clock_ms)
    chat = ChatEndpoint(
        registry=registry, limiter=limiter, pool=pool, metrics=metrics,
        max_body_bytes=settings.server.max_body_bytes, request_log=settings.server.request_log,
    )  # fmt: skip
    chat.forwarder = Forwarder(
        pool=pool, transport=active, ingest=ingest, metrics=metrics, retry=settings.retry,
        done=chat.finished,
    )  # fmt: skip
    monitor = Monitor(
        pool, active, health=settings.health, attestation=settings.attestation, monotonic=clock
    )
    logsync = LogSync(
        pool=pool, transport=active, receipts=store, checkpoints=store, ingest=ingest,
        seconds=settings.store.sync_seconds, timeout=settings.attestation.timeout_seconds,
    )  # fmt: skip
    ready = [False]

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await store.open()
        tasks: list[asyncio.Task[None]] = []
        try:
            await registry.load()
            ready[0] = True
            for name, job in (
                ("monitor", monitor.run()),
                ("tenants", registry.refresh_forever()),
                ("logsync", logsync.run()),
            ):
                tasks.append(asyncio.create_task(job, name=f"gateway-{name}"))
            yield
        finally:
            ready[0] = False
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await chat.drain()
            await limiter.close()
            if own_transport:
                await active.close()
            await store.close()

    routes: list[Route] = [
        Route("/v1/chat/completions", chat.__call__, methods=["POST"]),
        *info_routes(
            pool=pool,
            registry=registry,
            metrics=metrics,
            ready=ready,
            transport=active,
            timeout=settings.attestation.timeout_seconds,
        ),
        *receipt_routes(store=store, registry=registry),
    ]
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={HTTPException: _http_error, Exception: _internal_error},
    )
    app.state.gateway = Gateway(
        settings=settings, pool=pool, monitor=monitor, store=store, registry=registry,
        limiter=limiter, metrics=metrics, logsync=logsync,
    )  # fmt: skip
    return app


def gateway_of(app: Starlette) -> Gateway:
    """The internal parts of an app made by :func:`create_app`."""
    gateway: Gateway = app.state.gateway
    return gateway


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code)
    message = {404: f"no route {request.url.path}", 405: f"{request.method} is not allowed here"}
    return error_response(
        ApiError(exc.status_code, message.get(exc.status_code, str(exc.detail)), code=code)
    )


async def _internal_error(request: Request, exc: Exception) -> Response:
    log.error("internal error on %s: %s", request.url.path, type(exc).__name__)
    return error_response(ApiError(500, "internal error", type="server_error"))
