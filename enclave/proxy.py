"""``POST /v1/chat/completions``: check, route, call the upstream, answer, sign.

Every request that reaches an upstream ends in exactly one receipt, whatever happens:
a reply, an upstream error status, a failed connection, a cut stream, a client that
goes away, or a bug in translation. Requests refused before any upstream call (bad
JSON, unknown model, body too large...) get an OpenAI error envelope and no receipt:
no provider was involved, so there is nothing to attest.

This is a plain Starlette endpoint on purpose: no pydantic, one ``orjson`` parse, and
the request bytes forwarded as received where the dialect allows it.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from enclave.bugs import log_bug
from enclave.chat_request import CALLER_HEADER, NONCE_HEADER, ChatRequest, parse_chat_request
from enclave.dialects import Answer, Exchange, StreamTranslator, prepare
from enclave.dialects.base import error_answer, receipt_text
from enclave.envelope import JSON, error_response
from enclave.errors import ApiError, UpstreamUnavailable
from enclave.identity import Clock
from enclave.receipts import LoggedReceipt, Outcome, ReceiptLog
from enclave.routing import Router
from enclave.settings import UpstreamSettings
from enclave.signed_stream import SignedStream
from enclave.upstream.transport import Reply, Transport, UpstreamCut
from transcript.receipt import Status, Upstream

log = logging.getLogger("enclave.proxy")

RECEIPT_HEADER = "veritee-receipt"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
CLIENT_GONE = 499  # the nginx convention: the client closed the connection first
KEYSET_EXPIRED = ApiError(
    503,
    "this enclave's keyset has expired: its receipts would not verify; restart it for a new key",
    type="server_error",
    code="keyset_expired",
)


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


def _is_event_stream(content_type: str | None) -> bool:
    return content_type is not None and content_type.lower().startswith("text/event-stream")


class Proxy:
    """The chat completions endpoint and the receipts it signs."""

    def __init__(
        self,
        *,
        router: Router,
        log: ReceiptLog,
        clock: Clock,
        max_body_bytes: int,
        keyset_not_after_ms: int,
    ) -> None:
        self._router = router
        self._log = log
        self._clock = clock
        self._limit = max_body_bytes
        self._not_after = keyset_not_after_ms
        self.transport: Transport | None = None  # set when the app starts

    async def chat(self, request: Request) -> Response | SignedStream:
        try:
            raw = await read_body(request, self._limit)
            chat = parse_chat_request(
                raw,
                nonce=request.headers.getlist(NONCE_HEADER),
                caller=request.headers.getlist(CALLER_HEADER),
            )
            upstream = self._router.route(chat.model)
            if upstream is None:
                raise ApiError(
                    404,
                    f"the model {chat.model!r} does not exist or is not served here",
                    param="model",
                    code="model_not_found",
                )
            exchange = prepare(chat, upstream, self._clock)
        except ApiError as exc:
            return error_response(exc)
        if self.transport is None:
            return error_response(ApiError(503, "the enclave is starting", type="server_error"))
        if self._clock() > self._not_after:
            return error_response(KEYSET_EXPIRED)
        return await self._exchange(chat, upstream, exchange, self.transport)

    async def _exchange(
        self,
        chat: ChatRequest,
        upstream: UpstreamSettings,
        exchange: Exchange,
        transport: Transport,
    ) -> Response | SignedStream:
        call = exchange.call
        reply: Reply | None = None
        try:
            try:
                reply = await transport.post(call.url, call.headers, call.body)
            except UpstreamUnavailable as exc:
                status = 504 if exc.timeout else 502
                code = "upstream_timeout" if exc.timeout else "upstream_unreachable"
                answer = error_answer(status, str(exc), code=code)
                return self._respond(chat, upstream, None, answer)
            if (
                chat.stream
                and 200 <= reply.status <= 299
                and _is_event_stream(reply.header("content-type"))
            ):
                return self._stream(chat, upstream, exchange.translator(), reply)
            answer = await self._whole(chat, exchange, reply)
        except asyncio.CancelledError:
            if reply is not None:
                reply.close()
            self._sign(
                chat,
                upstream,
                reply,
                response_sha256=EMPTY_SHA256,
                status="truncated",
                http_status=CLIENT_GONE,
            )
            raise
        return self._respond(chat, upstream, reply, answer)

    async def _whole(self, chat: ChatRequest, exchange: Exchange, reply: Reply) -> Answer:
        try:
            body = await reply.read()
        except UpstreamCut as exc:
            code = "upstream_timeout" if exc.timeout else "upstream_cut"
            return error_answer(504 if exc.timeout else 502, str(exc), code=code)
        finally:
            reply.close()
        if chat.stream and 200 <= reply.status <= 299:
            return error_answer(502, "the upstream did not answer a stream request with a stream")
        try:
            return exchange.answer(reply.status, body)
        except Exception as exc:  # noqa: BLE001 - a translation bug must still end in a receipt
            log_bug(log, "answer translation failed", exc)
            return Answer(
                500,
                b'{"error":{"message":"the enclave failed to translate the answer",'
                b'"type":"server_error","param":null,"code":null}}',
                "upstream_error",
            )

    def _respond(
        self, chat: ChatRequest, upstream: UpstreamSettings, reply: Reply | None, answer: Answer
    ) -> Response:
        receipt = self._sign(
            chat,
            upstream,
            reply,
            response_sha256=hashlib.sha256(answer.body).hexdigest(),
            status=answer.status,
            http_status=answer.http_status,
            usage=answer.usage,
            upstream_model=answer.upstream_model,
        )
        return Response(
            answer.body,
            status_code=answer.http_status,
            media_type=JSON,
            headers={RECEIPT_HEADER: receipt.header()},
        )

    def _stream(
        self,
        chat: ChatRequest,
        upstream: UpstreamSettings,
        translator: StreamTranslator,
        reply: Reply,
    ) -> SignedStream:
        def finish(status: Status, response_sha256: str, t: StreamTranslator) -> LoggedReceipt:
            return self._sign(
                chat,
                upstream,
                reply,
                response_sha256=response_sha256,
                status=status,
                http_status=200,
                usage=t.usage,
                upstream_model=t.upstream_model,
            )

        return SignedStream(reply, translator, finish)

    def _sign(
        self,
        chat: ChatRequest,
        upstream: UpstreamSettings,
        reply: Reply | None,
        *,
        response_sha256: str,
        status: Status,
        http_status: int,
        usage: dict[str, int] | None = None,
        upstream_model: str | None = None,
    ) -> LoggedReceipt:
        observed = Upstream(
            provider=upstream.name,
            host=upstream.host,
            request_id=None
            if reply is None
            else receipt_text(reply.header("x-request-id") or reply.header("request-id")),
            spki_sha256=None if reply is None else reply.spki_sha256,
            response_sha256=None if reply is None else reply.raw_sha256(),
            status=None if reply is None else reply.status,
            model=upstream_model,
        )
        return self._log.sign(
            Outcome(
                request_sha256=chat.sha256,
                response_sha256=response_sha256,
                stream=chat.stream,
                status=status,
                http_status=http_status,
                model=chat.model,
                upstream=observed,
                usage=usage,
                client_nonce=chat.client_nonce,
                caller=chat.caller,
            )
        )
