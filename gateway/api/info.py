"""What the gateway serves besides chat: models, the enclave pool, health, metrics."""

from __future__ import annotations

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.envelope import JSON, error_response
from gateway.errors import ApiError
from gateway.obs.metrics import CONTENT_TYPE, Metrics
from gateway.pool.pool import Pool
from gateway.tenants.registry import TenantRegistry, model_allowed


def _json(value: object, status: int = 200) -> Response:
    return Response(orjson.dumps(value), status_code=status, media_type=JSON)


def info_routes(
    *, pool: Pool, registry: TenantRegistry, metrics: Metrics, ready: list[bool]
) -> list[Route]:
    """``ready[0]`` becomes True once the store is open and the key table loaded."""

    async def list_models(request: Request) -> Response:
        try:
            key = await registry.authenticate(request.headers.get("authorization"))
        except ApiError as exc:
            return error_response(exc)
        data = [
            {"id": name, "object": "model", "created": 0, "owned_by": "veritee"}
            for name in pool.models()
            if model_allowed(key.models, name)
        ]
        return _json({"object": "list", "data": data})

    async def enclaves(request: Request) -> Response:
        try:
            await registry.authenticate(request.headers.get("authorization"))
        except ApiError as exc:
            return error_response(exc)
        return _json({"object": "list", "data": pool.describe()})

    async def healthz(request: Request) -> Response:
        return _json({"status": "ok"})

    async def readyz(request: Request) -> Response:
        admitted = len(pool.admitted())
        ok = ready[0] and admitted > 0
        body = {"status": "ready" if ok else "starting", "admitted_enclaves": admitted}
        return _json(body, 200 if ok else 503)

    async def prometheus(request: Request) -> Response:
        return Response(metrics.render(), media_type=CONTENT_TYPE)

    return [
        Route("/v1/models", list_models, methods=["GET"]),
        Route("/v1/enclaves", enclaves, methods=["GET"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/metrics", prometheus, methods=["GET"]),
    ]
