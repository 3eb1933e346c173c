"""What the gateway serves besides chat: models, the enclave pool, health, metrics."""

from __future__ import annotations

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.envelope import JSON, error_response
from gateway.errors import ApiError, EnclaveUnavailable
from gateway.obs.metrics import CONTENT_TYPE, Metrics
from gateway.pool.pool import Pool
from gateway.tenants.registry import TenantRegistry, model_allowed
from gateway.transport import Transport, fetch


def _json(value: object, status: int = 200) -> Response:
    return Response(orjson.dumps(value), status_code=status, media_type=JSON)


def info_routes(
    *,
    pool: Pool,
    registry: TenantRegistry,
    metrics: Metrics,
    ready: list[bool],
    transport: Transport,
    timeout: float,
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

    async def attestation(request: Request) -> Response:
        """An enclave's attestation document for the client's nonce, relayed unchanged: the
        gateway cannot forge it, so a client can verify enclaves it cannot reach itself."""
        try:
            await registry.authenticate(request.headers.get("authorization"))
            member = pool.members.get(request.path_params["name"])
            if member is None:
                raise ApiError(404, "no such enclave", code="enclave_not_found")
            nonce = request.query_params.get("nonce", "")
            if len(nonce) != 64 or any(c not in "0123456789abcdef" for c in nonce):
                raise ApiError(400, "nonce: 64 lowercase hex digits", param="nonce")
            try:
                status, body = await fetch(
                    transport, f"{member.url}/v1/attestation?nonce={nonce}", timeout=timeout
                )
            except EnclaveUnavailable as exc:
                raise ApiError(502, f"the enclave did not answer: {exc}", type="server_error",
                               code="enclave_unavailable") from None  # fmt: skip
        except ApiError as exc:
            return error_response(exc)
        return Response(body, status_code=status, media_type=JSON)

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
        Route("/v1/enclaves/{name}/attestation", attestation, methods=["GET"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/metrics", prometheus, methods=["GET"]),
    ]
