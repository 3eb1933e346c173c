"""``create_app(settings)``: the enclave's ASGI app. Nothing happens at import time.

The app builds its identity (a fresh signing key) when created; when it starts it opens
the upstream transport, makes the boot evidence and starts the checkpoint timer; when
it stops it cuts a last checkpoint over any pending receipts. Its parts are reachable
as ``app.state.enclave`` (:class:`enclave.runtime.Enclave`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from attestation.evidence import EvidenceProvider
from enclave.bugs import log_bug
from enclave.checkpoints import Checkpointer
from enclave.envelope import error_response
from enclave.errors import ApiError
from enclave.identity import Clock, wall_clock_ms
from enclave.providers import load_provider
from enclave.routes_info import info_routes
from enclave.routes_log import log_routes
from enclave.runtime import Enclave, build_enclave
from enclave.settings import Settings
from enclave.upstream.h1 import H1Transport
from enclave.upstream.transport import Transport
from transcript.keys import SigningKey

log = logging.getLogger("enclave")


def create_app(
    settings: Settings,
    *,
    provider: EvidenceProvider | None = None,
    transport: Transport | None = None,
    clock: Clock = wall_clock_ms,
    key: SigningKey | None = None,
) -> FastAPI:
    """The enclave app. ``provider``, ``transport``, ``clock`` and ``key`` are test seams:
    by default the provider is the one the settings name, the transport
    :class:`enclave.upstream.h1.H1Transport`."""
    enclave = build_enclave(
        settings, provider=provider or load_provider(settings.attestation), clock=clock, key=key
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        client = settings.upstream_client
        active = transport or H1Transport(
            ca_bundle=client.ca_bundle,
            connect_timeout=client.connect_timeout_seconds,
            read_timeout=client.read_timeout_seconds,
            max_connections=client.max_connections,
        )
        timer = None
        try:
            await enclave.attestation.start()
            enclave.proxy.transport = active
            timer = asyncio.create_task(
                _cut_periodically(enclave.checkpoints, settings.receipts.checkpoint_every_seconds)
            )
            log.info("enclave %s ready", enclave.identity.address)
            yield
        finally:
            if timer is not None:
                timer.cancel()
            enclave.checkpoints.cut()
            enclave.proxy.transport = None
            if transport is None:
                await active.close()

    routes: list[Route] = [
        Route("/v1/chat/completions", enclave.proxy.chat, methods=["POST"]),
        *info_routes(enclave),
        *log_routes(enclave),
    ]
    app = FastAPI(
        title="veritee enclave",
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
        routes=routes,  # type: ignore[arg-type]
    )
    app.add_exception_handler(HTTPException, _http_error)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, _internal_error)
    app.state.enclave = enclave
    return app


def enclave_of(app: FastAPI) -> Enclave:
    """The internal API of an app made by :func:`create_app`."""
    enclave: Enclave = app.state.enclave
    return enclave


async def _cut_periodically(checkpoints: Checkpointer, seconds: float) -> None:
    while True:
        await asyncio.sleep(seconds)
        checkpoints.cut()


async def _http_error(request: Request, exc: HTTPException) -> Response:
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code)
    message = {404: f"no route {request.url.path}", 405: f"{request.method} is not allowed here"}
    return error_response(
        ApiError(exc.status_code, message.get(exc.status_code, str(exc.detail)), code=code)
    )


async def _internal_error(request: Request, exc: Exception) -> Response:
    log_bug(log, f"internal error on {request.url.path}", exc)
    return error_response(ApiError(500, "internal error", type="server_error"))
