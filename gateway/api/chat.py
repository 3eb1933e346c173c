"""``POST /v1/chat/completions``: authenticate, check, limit, forward, account.

The hot path. A plain Starlette endpoint: one ``orjson`` parse to learn the model and
whether to stream, the request bytes forwarded exactly as received (the receipt commits
to their hash), no pydantic. The order of refusals: 401 (no or unknown key), 413 (too
large), 400 (not a JSON object with a model), 403 (model not allowed for this key), 503 /
404 (no enclave admitted / none serves the model), 429 (over a limit).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
import time

import orjson
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from gateway.envelope import error_response
from gateway.errors import ApiError
from gateway.obs.logs import event
from gateway.obs.metrics import Metrics
from gateway.pool.pool import Pool
from gateway.proxy.call import CALLER, FORWARDED, Call
from gateway.proxy.forward import Forwarder
from gateway.proxy.relay import StreamRelay
from gateway.store.base import StoredReceipt
from gateway.tenants.limits import Limiter
from gateway.tenants.registry import TenantRegistry, model_allowed

log = logging.getLogger("gateway.requests")


async def read_body(request: Request, limit: int) -> bytes:
    """The exact request body; 413 as soon as it exceeds ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    body = bytearray()
    try:
        async for chunk in request.stream():
            body += chunk
            if len(body) > limit:
                raise _too_large(limit)
    except ClientDisconnect:
        raise ApiError(400, "the client closed the connection while sending") from None
    return bytes(body)


def _too_large(limit: int) -> ApiError:
    return ApiError(413, f"the request body exceeds {limit} bytes", code="request_too_large")


def peek(body: bytes) -> tuple[str, bool]:
    """The ``model`` and ``stream`` of a chat request; 400 in the OpenAI envelope if absent."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise ApiError(400, "the request body is not valid JSON", code="invalid_json") from None
    if type(data) is not dict:
        raise ApiError(400, "the request body must be a JSON object", code="invalid_request")
    model = data.get("model")
    if type(model) is not str or not model:
        raise ApiError(400, "model: a non-empty string is required", param="model")
    stream = data.get("stream", False)
    if stream is None:
        stream = False
    if type(stream) is not bool:
        raise ApiError(400, "stream: must be true or false", param="stream")
    return model, stream


class ChatEndpoint:
    def __init__(
        self,
        *,
        registry: TenantRegistry,
        limiter: Limiter,
        pool: Pool,
        metrics: Metrics,
        max_body_bytes: int,
        request_log: bool,
    ) -> None:
        self._registry = registry
        self._limiter = limiter
        self._pool = pool
        self._metrics = metrics
        self._limit = max_body_bytes
        self._request_log = request_log
        self._background: set[asyncio.Task[None]] = set()
        self.forwarder: Forwarder | None = None  # set by the app (it needs ``finished``)

    async def __call__(self, request: Request) -> Response | StreamRelay:
        request_id = "req_" + secrets.token_hex(12)
        started = time.perf_counter()
        ids = {"x-veritee-request-id": request_id}
        model = "?"
        try:
            key = await self._registry.authenticate(request.headers.get("authorization"))
            body = await read_body(request, self._limit)
            model, stream = peek(body)
            if not model_allowed(key.models, model):
                raise ApiError(
                    403,
                    f"this API key may not use the model {model!r}",
                    param="model",
                    code="model_not_allowed",
                )
            if not self._pool.serves(model):
                if not self._pool.admitted():
                    raise ApiError(
                        503, "no verified enclave is available yet", type="server_error",
                        code="no_enclave_available", headers={"retry-after": "1"},
                    )  # fmt: skip
                raise ApiError(404, f"the model {model!r} does not exist", param="model",
                               code="model_not_found")  # fmt: skip
            decision = await self._limiter.admit(key)
            limits = decision.headers()
            if not decision.allowed:
                self._metrics.rate_limited.inc()
                raise ApiError(
                    429,
                    "rate limit reached for this API key; retry after the time in retry-after",
                    type="rate_limit_error", code="rate_limit_exceeded", headers=limits,
                )  # fmt: skip
            headers = {"content-type": "application/json", CALLER: key.key_id}
            for name in FORWARDED[1:]:
                value = request.headers.get(name)
                if value is not None:
                    headers[name] = value  # a caller binding the client chose wins
            call = Call(
                request_id=request_id, key=key, model=model, stream=stream, body=body,
                body_sha256=hashlib.sha256(body).hexdigest(), upstream_headers=headers,
                reply_headers={**ids, **limits}, started=started,
            )  # fmt: skip
            assert self.forwarder is not None
            answer, stored = await self.forwarder.forward(call)
        except ApiError as exc:
            self._account(model, exc.status, started, stream=False)
            if self._request_log:
                event(log, "request refused", request_id=request_id, model=self._known(model),
                      status=exc.status, code=exc.code)  # fmt: skip
            return error_response(exc, ids)
        if isinstance(answer, Response):
            self.finished(call, answer.status_code, stored, None)
        return answer

    def finished(
        self, call: Call, status: int, stored: StoredReceipt | None, problem: str | None
    ) -> None:
        """Account for an answered call (also called by a stream relay when it ends)."""
        self._account(call.model, status, call.started, stream=call.stream)
        tokens = stored.total_tokens if stored is not None else None
        if tokens and call.key.tpm is not None:
            task = asyncio.create_task(self._limiter.charge_tokens(call.key, tokens))
            self._background.add(task)
            task.add_done_callback(self._background.discard)
        if self._request_log:
            event(
                log,
                "request",
                request_id=call.request_id,
                tenant=call.key.tenant,
                key_id=call.key.key_id,
                model=call.model,
                stream=call.stream,
                status=status,
                enclave=call.enclave,
                attempts=call.attempts,
                duration_ms=round((time.perf_counter() - call.started) * 1000, 3),
                receipt_id=stored.id if stored else None,
                verdict=stored.verdict if stored else None,
                receipt_status=stored.status if stored else None,
                tokens=tokens,
                problem=problem,
            )

    async def drain(self) -> None:
        """Wait for background token charges (at shutdown)."""
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)

    def _known(self, model: str) -> str:
        """``model`` if an enclave serves it: a client's text never reaches logs or labels."""
        return model if self._pool.serves(model) else "other"

    def _account(self, model: str, status: int, started: float, *, stream: bool) -> None:
        label = "true" if stream else "false"
        self._metrics.requests.labels(self._known(model), str(status), label).inc()
        self._metrics.request_seconds.labels(label).observe(time.perf_counter() - started)
