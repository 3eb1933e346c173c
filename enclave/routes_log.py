"""The transparency side: receipts, checkpoints and inclusion proofs.

``GET /v1/receipts?after_seq=N&limit=L`` lets a gateway catch up on the log; receipts
appear in their exact wire form (canonical JSON), so what is stored is what was signed.
"""

from __future__ import annotations

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from enclave.envelope import JSON, answers_errors, error_response
from enclave.errors import ApiError
from enclave.params import uint_param
from enclave.runtime import Enclave

MAX_PAGE = 1000


def _not_found(message: str, code: str) -> Response:
    return error_response(ApiError(404, message, code=code))


def _page(request: Request, after: str) -> tuple[int, int]:
    """``(after, limit)`` from the query; ``limit`` is 1..MAX_PAGE (0 or absent: MAX_PAGE)."""
    return (
        uint_param(request, after, 0),
        uint_param(request, "limit", MAX_PAGE, high=MAX_PAGE) or MAX_PAGE,
    )


def log_routes(enclave: Enclave) -> list[Route]:
    log = enclave.log

    @answers_errors
    async def receipts(request: Request) -> Response:
        page = log.since(*_page(request, "after_seq"))
        last = log.last_seq
        meta = orjson.dumps(
            {
                "object": "list",
                "signer": enclave.identity.address,
                "first_held_seq": log.first_held_seq,
                "last_seq": last,
                "has_more": bool(page) and page[-1].seq < last,
            }
        )
        body = b'{"data":[' + b",".join(r.wire for r in page) + b"]," + meta[1:]
        return Response(body, media_type=JSON)

    async def receipt(request: Request) -> Response:
        found = log.get(request.path_params["receipt_id"])
        if found is None:
            return _not_found("no such receipt is held here", "receipt_not_found")
        return Response(found.wire, media_type=JSON)

    async def proof(request: Request) -> Response:
        found = log.get(request.path_params["receipt_id"])
        if found is None:
            return _not_found("no such receipt is held here", "receipt_not_found")
        inclusion = enclave.checkpoints.proof(found.seq, found.receipt.body_hash)
        if inclusion is None:
            return _not_found(
                "the receipt is not covered by a held checkpoint (not cut yet, or dropped)",
                "not_checkpointed",
            )
        return Response(orjson.dumps(inclusion.to_dict()), media_type=JSON)

    @answers_errors
    async def checkpoints(request: Request) -> Response:
        found = enclave.checkpoints.after(*_page(request, "after"))
        return Response(
            orjson.dumps({"object": "list", "data": [c.to_dict() for c in found]}),
            media_type=JSON,
        )

    return [
        Route("/v1/receipts", receipts, methods=["GET"]),
        Route("/v1/receipts/{receipt_id}", receipt, methods=["GET"]),
        Route("/v1/receipts/{receipt_id}/proof", proof, methods=["GET"]),
        Route("/v1/checkpoints", checkpoints, methods=["GET"]),
    ]
