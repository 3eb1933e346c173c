"""Who the enclave is: models, keyset, attestation evidence, health."""

from __future__ import annotations

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from attestation.document import AttestationDocument
from attestation.errors import ProviderError
from attestation.keyset import parse_nonce
from enclave.envelope import JSON, answers_errors
from enclave.errors import ApiError, bad_request
from enclave.runtime import Enclave


def _json(value: object, status: int = 200) -> Response:
    return Response(orjson.dumps(value), status_code=status, media_type=JSON)


def info_routes(enclave: Enclave) -> list[Route]:
    created = enclave.identity.keyset.not_before_ms // 1000
    models = orjson.dumps(
        {
            "object": "list",
            "data": [
                {"id": name, "object": "model", "created": created, "owned_by": owner}
                for name, owner in enclave.router.listed()
            ],
        }
    )

    async def list_models(request: Request) -> Response:
        return Response(models, media_type=JSON)

    async def keyset(request: Request) -> Response:
        """The canonical keyset bytes: their sha256 is the keyset hash in every receipt."""
        return Response(enclave.identity.keyset_canonical, media_type=JSON)

    @answers_errors
    async def attestation(request: Request) -> Response:
        values = request.query_params.getlist("nonce")
        if not values:
            evidence = enclave.attestation.boot_evidence
            if evidence is None:
                raise ApiError(503, "boot evidence is not ready yet", type="server_error")
            return _json(AttestationDocument(evidence, enclave.identity.keyset).to_dict())
        if len(values) > 1:
            raise bad_request("give one nonce", param="nonce")
        try:
            nonce = parse_nonce(values[0])
        except ValueError as exc:
            raise bad_request(str(exc), param="nonce", code="invalid_nonce") from None
        try:
            evidence = await enclave.attestation.fresh(nonce)
        except ProviderError as exc:
            raise ApiError(
                503, f"could not produce evidence: {exc}", type="server_error",
                code="attestation_unavailable",
            ) from None  # fmt: skip
        return _json(AttestationDocument(evidence, enclave.identity.keyset, nonce).to_dict())

    async def healthz(request: Request) -> Response:
        return _json({"status": "ok"})

    async def readyz(request: Request) -> Response:
        if enclave.clock() > enclave.identity.keyset.not_after_ms:
            return _json({"status": "keyset_expired"}, 503)
        ready = (
            enclave.attestation.boot_evidence is not None and enclave.proxy.transport is not None
        )
        return _json({"status": "ready" if ready else "starting"}, 200 if ready else 503)

    return [
        Route("/v1/models", list_models, methods=["GET"]),
        Route("/v1/keyset", keyset, methods=["GET"]),
        Route("/v1/attestation", attestation, methods=["GET"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
    ]
