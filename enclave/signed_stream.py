"""The streamed answer: upstream events out as they arrive, the receipt last.

Wire format (``docs/spec/enclave-api.md``, "Stream receipts")::

    data: {chunk}\n\n            ... every chunk, forwarded or translated
    data: {"error": {...}}\n\n    only when the stream was cut or the upstream failed
    data: [DONE]\n\n
    event: veritee-receipt\n
    data: {"body": ..., "sig": ...}\n\n

The receipt's ``response_sha256`` covers every byte before ``event: veritee-receipt``.
The official ``openai`` SDK stops reading at ``[DONE]`` (and raises at an error event),
so it never sees the receipt. ``[DONE]`` and the receipt go out in one write, after
signing, so a client that closes the connection at ``[DONE]`` cannot race the receipt.
Only whole events are forwarded: a stream cut mid-event never hands out half an event.

If the client disconnects, the upstream read stops and the receipt (``truncated``,
covering what was sent) is still signed into the log.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable
from typing import Any

from enclave.bugs import log_bug
from enclave.dialects.base import StreamTranslator, error_event
from enclave.receipts import LoggedReceipt
from enclave.sse import DONE, EventTooLarge, SseEvent, SseParser, data_event
from enclave.upstream.transport import Reply, UpstreamCut
from transcript.receipt import Status

log = logging.getLogger("enclave.stream")

RECEIPT_EVENT = "veritee-receipt"
HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),
]
Finish = Callable[[Status, str, StreamTranslator], LoggedReceipt]
"""Signs the receipt: ``(status, response_sha256, translator) -> receipt``."""


class SignedStream:
    """An ASGI response for one streamed exchange."""

    def __init__(self, reply: Reply, translator: StreamTranslator, finish: Finish) -> None:
        self._reply = reply
        self._translator = translator
        self._finish = finish
        self._hash = hashlib.sha256()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        task = asyncio.current_task()
        disconnected = asyncio.Event()

        async def watch() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass
            disconnected.set()
            if task is not None:
                task.cancel()

        watcher = asyncio.ensure_future(watch())
        try:
            status, tail = await self._pump(send)
        except BaseException as exc:  # cancelled, or the client connection failed
            self._reply.close()
            status = "upstream_error" if self._translator.failed else "truncated"
            self._finish(status, self._hash.hexdigest(), self._translator)
            if isinstance(exc, asyncio.CancelledError) and disconnected.is_set() and task:
                task.uncancel()
                return
            raise
        finally:
            watcher.cancel()
        self._reply.close()
        tail += DONE
        self._hash.update(tail)
        receipt = self._finish(status, self._hash.hexdigest(), self._translator)
        tail += data_event(receipt.wire, RECEIPT_EVENT)
        await send({"type": "http.response.body", "body": tail, "more_body": False})

    async def _pump(self, send: Any) -> tuple[Status, bytes]:
        """Forward events until the stream ends; return the status and any error event."""
        await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
        parser = SseParser()
        translator = self._translator
        reason = "the upstream ended the stream before it was complete"
        try:
            async for chunk in self._reply.chunks():
                if not await self._forward(parser.feed(chunk), send):
                    return "truncated", _cut("the enclave failed to translate the stream")
                if translator.ended:
                    break
            else:
                if not await self._forward(parser.close(), send):
                    return "truncated", _cut("the enclave failed to translate the stream")
        except (UpstreamCut, EventTooLarge) as exc:
            reason = str(exc)
        if translator.failed:  # the client already has the upstream's error
            return "upstream_error", b""
        if translator.done:
            return "complete", b""
        return "truncated", _cut(reason)

    async def _forward(self, events: list[SseEvent], send: Any) -> bool:
        """Translate and send ``events``; False if translation failed (a bug, logged)."""
        try:
            out = b"".join([self._translator.feed(event) for event in events])
        except Exception as exc:  # noqa: BLE001 - a translation bug must still end in a receipt
            log_bug(log, "stream translation failed", exc)
            return False
        if out:
            self._hash.update(out)
            await send({"type": "http.response.body", "body": out, "more_body": True})
        return True


def _cut(message: str) -> bytes:
    return error_event(message, type="upstream_error", code="stream_truncated")
