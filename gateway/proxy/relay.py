"""The streamed answer: the enclave's events to the client as they arrive, receipt last.

Once the first byte has gone to the client nothing is retried: a stream cut by the enclave
ends with an error event the ``openai`` SDK raises on. At the end the receipt is checked
and stored durably; only then does the client get ``[DONE]`` and the receipt event, as the
enclave sent them. If the receipt fails verification the client gets an error event
instead of ``[DONE]`` (the receipt follows, flagged in the store), and the enclave is
ejected. If the client goes away, the enclave connection is closed: the enclave then
signs a ``truncated`` receipt into its log, which the log sync brings into the store.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from gateway.envelope import error_event
from gateway.errors import EnclaveUnavailable, StoreError
from gateway.obs.logs import event
from gateway.obs.metrics import Metrics
from gateway.pool.member import Member
from gateway.pool.pool import Pool
from gateway.proxy.call import Call, relayed_headers
from gateway.proxy.ingest import Delivery, ReceiptIngest
from gateway.proxy.stream_tap import StreamTap
from gateway.store.base import StoredReceipt
from gateway.transport import Reply

log = logging.getLogger("gateway.relay")
Done = Callable[[Call, int, StoredReceipt | None, str | None], None]
"""Called once the stream is over: ``(call, status, stored receipt, problem)``."""


class StreamRelay:
    """An ASGI response for one streamed answer."""

    def __init__(
        self,
        *,
        call: Call,
        reply: Reply,
        member: Member,
        pool: Pool,
        ingest: ReceiptIngest,
        metrics: Metrics,
        done: Done,
    ) -> None:
        self._call = call
        self._reply = reply
        self._member = member
        self._pool = pool
        self._ingest = ingest
        self._metrics = metrics
        self._done = done
        self._finished = False

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        task = asyncio.current_task()
        gone = asyncio.Event()

        async def watch() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass
            gone.set()
            if task is not None:
                task.cancel()

        watcher = asyncio.ensure_future(watch())
        tap = StreamTap()
        problem: str | None = None
        try:
            try:
                await self._pump(tap, send)
            except EnclaveUnavailable as exc:
                problem = str(exc)
            finally:
                watcher.cancel()
                self._reply.close()
            await self._end(tap, problem, send)
        except asyncio.CancelledError:
            if not (gone.is_set() and task is not None):
                self._finish(problem="cancelled")
                raise
            task.uncancel()
            self._finish(problem="the client went away")
        except BaseException as exc:
            self._finish(problem=f"relay failed: {type(exc).__name__}")
            raise
        finally:
            self._member.outstanding -= 1

    async def _pump(self, tap: StreamTap, send: Any) -> None:
        call = self._call
        headers = relayed_headers(self._reply.headers, call.reply_headers)
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        first = True
        async for chunk in self._reply.chunks():
            out = tap.feed(chunk)
            if out:
                await send({"type": "http.response.body", "body": out, "more_body": True})
                if first:
                    first = False
                    self._metrics.ttft_seconds.observe(time.perf_counter() - call.started)
        out = tap.end()
        if out:
            await send({"type": "http.response.body", "body": out, "more_body": True})

    async def _end(self, tap: StreamTap, problem: str | None, send: Any) -> None:
        member, call = self._member, self._call
        stored: StoredReceipt | None = None
        if tap.receipt is None:
            self._metrics.missing_receipts.inc()
            reason = problem or "the enclave ended the stream without a receipt"
            self._pool.failed(member, reason)
            problem = f"stream cut before its receipt: {reason}"
            tail = error_event(
                f"the enclave's stream was cut ({reason}); no receipt was delivered",
                type="upstream_error",
                code="stream_truncated",
            )
        else:
            delivery = Delivery(
                enclave=member.name,
                request_sha256=call.body_sha256,
                response_sha256=tap.response_sha256,
                tenant=call.key.tenant,
                key_id=call.key.key_id,
                request_id=call.request_id,
            )
            try:
                stored = await self._ingest.accept(tap.receipt, member, delivery)
            except StoreError as exc:
                problem = f"receipt not stored: {exc}"
                tail = error_event(
                    "the receipt could not be stored; the answer is withheld",
                    type="server_error",
                    code="receipt_store_unavailable",
                )
            else:
                if stored.verified:
                    tail = tap.held + tap.receipt_event
                else:
                    problem = f"receipt {stored.verdict}: {stored.problem}"
                    tail = (
                        error_event(
                            f"the enclave's receipt failed verification ({stored.verdict}); "
                            "the enclave was ejected",
                            type="server_error",
                            code="receipt_invalid",
                        )
                        + tap.receipt_event
                    )
        await send({"type": "http.response.body", "body": tail, "more_body": False})
        if tap.extra:  # the enclave broke its own wire format; say so, relay none of it
            event(log, "bytes after the receipt event were dropped", logging.WARNING,
                  enclave=member.name, request_id=call.request_id)  # fmt: skip
        self._finish(stored=stored, problem=problem)

    def _finish(self, *, stored: StoredReceipt | None = None, problem: str | None) -> None:
        if not self._finished:
            self._finished = True
            self._done(self._call, 200, stored, problem)
