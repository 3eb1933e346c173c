"""Sending a chat completion to an enclave: choice, retries and failover, the answer.

An attempt goes to a member :meth:`Pool.pick` chooses, preferring one not tried yet.
Attempts are repeated (up to ``retry.max_attempts``) only while nothing has reached the
client, which for a non-streamed answer is until the gateway sends it, and for a stream
until the enclave's 200 arrives:

- the connection failed or the reply was cut: try another member;
- the enclave answered 200 without a receipt, or with one that fails verification:
  it is ejected, the (flagged) receipt is stored, and another member is tried;
- the answer is 408, 429 or 5xx: retried unless the enclave says ``x-should-retry:
  false``, after ``Retry-After`` when given (longer waits than
  ``retry.max_retry_after_seconds`` are passed to the client instead).

Every receipt of every attempt is stored. When the gateway has made its own attempts, an
error answer carries ``x-should-retry: false`` so that SDKs do not multiply them.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import time
from collections.abc import Mapping
from dataclasses import dataclass

from starlette.responses import Response

from gateway.errors import ApiError, EnclaveUnavailable, StoreError
from gateway.obs.metrics import Metrics
from gateway.pool.member import Member
from gateway.pool.pool import Pool
from gateway.proxy.call import RECEIPT_HEADER, Call, relayed_headers
from gateway.proxy.ingest import Delivery, ReceiptIngest
from gateway.proxy.relay import Done, StreamRelay
from gateway.settings import RetrySettings
from gateway.store.base import StoredReceipt
from gateway.transport import Transport

RETRYABLE = frozenset({408, 429, 500, 502, 503, 504})


@dataclass(slots=True)
class _Outcome:
    final: bool
    answer: Response | StreamRelay | None = None
    reason: str = ""
    wait: float | None = None
    stored: StoredReceipt | None = None


def retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds from ``retry-after-ms`` or ``retry-after`` (delta-seconds form), if any."""
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        value = headers.get(name)
        if value:
            try:
                seconds = float(value) * scale
            except ValueError:
                continue
            if seconds >= 0:
                return seconds
    return None


def _decode_header(value: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        return value.encode("utf-8", "replace")  # stored as malformed, never dropped


class Forwarder:
    def __init__(
        self,
        *,
        pool: Pool,
        transport: Transport,
        ingest: ReceiptIngest,
        metrics: Metrics,
        retry: RetrySettings,
        done: Done,
    ) -> None:
        self._pool = pool
        self._transport = transport
        self._ingest = ingest
        self._metrics = metrics
        self._retry = retry
        self._done = done

    async def forward(self, call: Call) -> tuple[Response | StreamRelay, StoredReceipt | None]:
        """The answer for ``call`` (and the receipt stored with it, when not streamed)."""
        tried: set[str] = set()
        last: _Outcome | None = None
        answered: _Outcome | None = None  # the last attempt that produced an answer
        while call.attempts < self._retry.max_attempts:
            member = self._pool.pick(call.model, tried) or self._pool.pick(call.model)
            if member is None:
                break
            if call.attempts:
                self._metrics.retries.labels(last.reason if last else "unknown").inc()
                if last is not None and last.wait:
                    await asyncio.sleep(last.wait)
                elif member.name in tried:
                    await asyncio.sleep(self._retry.backoff_seconds * call.attempts)
            call.attempts += 1
            tried.add(member.name)
            call.enclave = member.name
            call.reply_headers["x-veritee-enclave"] = member.name
            outcome = await self._attempt(member, call)
            if outcome.final:
                assert outcome.answer is not None
                return outcome.answer, outcome.stored
            last = outcome
            if outcome.answer is not None:
                answered = outcome
        if answered is not None and isinstance(answered.answer, Response):
            answered.answer.headers["x-should-retry"] = "false"
            return answered.answer, answered.stored
        if call.attempts:
            raise ApiError(
                502,
                f"no enclave could answer after {call.attempts} attempt(s): {last.reason if last else ''}",
                type="server_error",
                code="enclave_unavailable",
                headers={"x-should-retry": "false"},
            )
        raise ApiError(
            503,
            f"no verified enclave is serving {call.model!r} right now",
            type="server_error",
            code="no_enclave_available",
            headers={"retry-after": "1"},
        )

    async def _attempt(self, member: Member, call: Call) -> _Outcome:
        member.outstanding += 1
        streaming = False
        started = time.perf_counter()
        try:
            try:
                reply = await self._transport.request(
                    "POST",
                    f"{member.url}/v1/chat/completions",
                    body=call.body,
                    headers=call.upstream_headers,
                )
            except EnclaveUnavailable as exc:
                if exc.refused:
                    self._pool.unreachable(member, str(exc))
                else:
                    self._pool.failed(member, str(exc))
                return _Outcome(False, reason="connect")
            first_byte = time.perf_counter() - started
            content_type = reply.headers.get("content-type") or ""
            if reply.status == 200 and content_type.startswith("text/event-stream"):
                self._pool.succeeded(member, first_byte)
                streaming = True  # the relay owns the member's outstanding count now
                relay = StreamRelay(
                    call=call, reply=reply, member=member, pool=self._pool,
                    ingest=self._ingest, metrics=self._metrics, done=self._done,
                )  # fmt: skip
                return _Outcome(True, relay)
            try:
                data = await reply.read()
            except EnclaveUnavailable as exc:
                self._pool.failed(member, str(exc))
                return _Outcome(False, reason="cut")
            return await self._answer(
                member=member, call=call, status=reply.status, headers=reply.headers, data=data,
                first_byte=first_byte,
            )  # fmt: skip
        finally:
            if not streaming:
                member.outstanding -= 1

    async def _answer(
        self,
        *,
        member: Member,
        call: Call,
        status: int,
        headers: Mapping[str, str],
        data: bytes,
        first_byte: float,
    ) -> _Outcome:
        response = Response(data, status_code=status)
        response.raw_headers = [
            *relayed_headers(headers, call.reply_headers),
            (b"content-length", str(len(data)).encode()),
        ]
        header = headers.get(RECEIPT_HEADER)
        if header is None:
            if status < 300:
                self._metrics.missing_receipts.inc()
                self._pool.eject(
                    member, "receipt.missing", f"answered HTTP {status} without a receipt"
                )
                return _Outcome(False, reason="unsigned")
            if status >= 500:
                self._pool.failed(member, f"HTTP {status} without a receipt")
                return _Outcome(False, response, reason="enclave_error")
            return _Outcome(True, response)  # the enclave refused the request itself
        delivery = Delivery(
            enclave=member.name,
            request_sha256=call.body_sha256,
            response_sha256=hashlib.sha256(data).hexdigest(),
            tenant=call.key.tenant,
            key_id=call.key.key_id,
            request_id=call.request_id,
        )
        try:
            stored = await self._ingest.accept(_decode_header(header), member, delivery)
        except StoreError as exc:
            raise ApiError(
                503,
                "the receipt could not be stored, so the answer is withheld; retry shortly",
                type="server_error",
                code="receipt_store_unavailable",
                headers={"x-should-retry": "false"},
            ) from exc
        if not stored.verified:
            return _Outcome(False, reason="receipt_invalid", stored=stored)
        self._pool.succeeded(member, first_byte)
        if status in RETRYABLE and headers.get("x-should-retry") != "false":
            wait = retry_after(headers)
            if wait is None or wait <= self._retry.max_retry_after_seconds:
                return _Outcome(False, response, reason=f"http_{status}", wait=wait, stored=stored)
        return _Outcome(True, response, stored=stored)
