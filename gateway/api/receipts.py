"""Reading the receipt store: ``GET /v1/receipts/{id}``, ``GET /v1/receipts?...`` and
``GET /v1/receipts/{id}/proof`` (:mod:`gateway.anchoring.proofs`).

A key sees its own tenant's receipts; an ``admin`` key sees all of them (and receipts
fetched from enclave logs, which belong to no tenant). Each entry embeds the receipt's
exact canonical bytes under ``receipt``, so what a client verifies is what was signed.
Query parameters: ``tenant``, ``model``, ``signer``, ``verdict``, ``since`` and ``until``
(milliseconds since the epoch, or ISO 8601), ``limit`` (1..1000, default 100), ``after``
(the ``next_after`` cursor of the previous page).
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.anchoring.proofs import Proofs
from gateway.envelope import JSON, error_response
from gateway.errors import ApiError
from gateway.store.base import (
    VERDICTS,
    ApiKeyRecord,
    ReceiptQuery,
    ReceiptStore,
    StoredReceipt,
    Verdict,
    cursor_of,
    parse_cursor,
)
from gateway.tenants.registry import TenantRegistry

MAX_PAGE = 1000


def entry_bytes(r: StoredReceipt) -> bytes:
    """One stored receipt as JSON, its canonical bytes spliced in unchanged."""
    meta = orjson.dumps(
        {
            "object": "receipt",
            "id": r.id,
            "verdict": r.verdict,
            "problem": r.problem,
            "source": r.source,
            "enclave": r.enclave,
            "tenant": r.tenant,
            "key_id": r.key_id,
            "request_id": r.request_id,
            "received_ms": r.received_ms,
            "time_ms": r.time_ms,
            "model": r.model,
            "status": r.status,
            "signer": r.signer,
            "seq": r.seq,
        }
    )
    # A malformed receipt may not even be JSON: it is embedded as a string instead.
    malformed = r.verdict == "malformed"
    embedded = orjson.dumps(r.raw.decode("utf-8", "replace")) if malformed else r.raw
    return meta[:-1] + b',"receipt":' + embedded + b"}"


def _time(value: str | None, name: str) -> int | None:
    if value is None:
        return None
    if value.isdigit():
        return int(value)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ApiError(
            400, f"{name}: milliseconds since the epoch or ISO 8601", param=name
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return int(parsed.timestamp() * 1000)


def _query(request: Request, key: ApiKeyRecord) -> ReceiptQuery:
    params = request.query_params
    tenant = params.get("tenant")
    if not key.admin:
        if tenant not in (None, key.tenant):
            raise ApiError(403, "this key may only read its own tenant's receipts", param="tenant",
                           code="permission_denied")  # fmt: skip
        tenant = key.tenant
    verdict = params.get("verdict")
    if verdict is not None and verdict not in VERDICTS:
        raise ApiError(400, f"verdict: one of {list(VERDICTS)}", param="verdict")
    limit_text = params.get("limit", "100")
    if not limit_text.isdigit() or not 1 <= int(limit_text) <= MAX_PAGE:
        raise ApiError(400, f"limit: an integer 1..{MAX_PAGE}", param="limit")
    after = params.get("after")
    try:
        cursor = None if after is None else parse_cursor(after)
    except ValueError as exc:
        raise ApiError(400, f"after: {exc}", param="after") from None
    verdict_value: Verdict | None = verdict
    return ReceiptQuery(
        tenant=tenant,
        model=params.get("model"),
        signer=params.get("signer"),
        verdict=verdict_value,
        since_ms=_time(params.get("since"), "since"),
        until_ms=_time(params.get("until"), "until"),
        after=cursor,
        limit=int(limit_text),
    )


def receipt_routes(*, store: ReceiptStore, registry: TenantRegistry, proofs: Proofs) -> list[Route]:
    async def visible(request: Request) -> StoredReceipt:
        key = await registry.authenticate(request.headers.get("authorization"))
        found = await store.get_receipt(request.path_params["receipt_id"])
        if found is None or not (key.admin or found.tenant == key.tenant):
            raise ApiError(404, "no such receipt", code="receipt_not_found")
        return found

    async def one(request: Request) -> Response:
        try:
            found = await visible(request)
        except ApiError as exc:
            return error_response(exc)
        return Response(entry_bytes(found), media_type=JSON)

    async def proof(request: Request) -> Response:
        try:
            answer = await proofs.answer(await visible(request))
        except ApiError as exc:
            return error_response(exc)
        return Response(orjson.dumps(answer), media_type=JSON)

    async def many(request: Request) -> Response:
        try:
            key = await registry.authenticate(request.headers.get("authorization"))
            query = _query(request, key)
            found = await store.query_receipts(dataclasses.replace(query, limit=query.limit + 1))
        except ApiError as exc:
            return error_response(exc)
        more = len(found) > query.limit
        page = found[: query.limit]
        tail = orjson.dumps(
            {
                "object": "list",
                "has_more": more,
                "next_after": cursor_of(page[-1]) if more else None,
            }
        )
        body = b'{"data":[' + b",".join(entry_bytes(r) for r in page) + b"]," + tail[1:]
        return Response(body, media_type=JSON)

    return [
        Route("/v1/receipts", many, methods=["GET"]),
        Route("/v1/receipts/{receipt_id}", one, methods=["GET"]),
        Route("/v1/receipts/{receipt_id}/proof", proof, methods=["GET"]),
    ]
