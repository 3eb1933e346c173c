"""Routing one request to a reply: dialect, auth, directives, faults, pacing.

Order of decisions, which fixes what a test observes:
1. ``/_sim/...`` control endpoints answer at once.
2. The dialect: ``/v1/messages`` is Anthropic, ``/v1/chat/completions`` OpenAI, any other
   path Anthropic when the request has an ``anthropic-version`` header, else OpenAI. The
   request gets the next request number (ids derive from it) and enters the journal.
3. Auth (401), route (404/405), the ``x-sim`` header (400): answered at once.
4. The body, whose last user message may hold markers; a bad one gets the provider's 400.
5. From here (the 400 of step 4 included) ``latency_ms``, ``hold`` and the faults apply:
   status faults (429/500/529) replace the reply; malformed-* faults corrupt it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Coroutine
from typing import Any

from veritee.upstream_sim.anthropic_dialect import AnthropicDialect
from veritee.upstream_sim.control import Journal, control
from veritee.upstream_sim.delivery import deliver, deliver_now
from veritee.upstream_sim.dialect import Dialect, Exchange, ParsedChat
from veritee.upstream_sim.directives import (
    NO_DIRECTIVES,
    DirectiveError,
    Directives,
    parse_directives,
)
from veritee.upstream_sim.errors import ErrorKind, SimError
from veritee.upstream_sim.faults import WIRE_FAULTS, corrupt, fault_error
from veritee.upstream_sim.holds import Holds
from veritee.upstream_sim.http import Connection, Request
from veritee.upstream_sim.ids import RequestIds, system_fingerprint
from veritee.upstream_sim.openai_dialect import OpenAIDialect
from veritee.upstream_sim.prompt import RequestInvalid
from veritee.upstream_sim.reply import Pacing, Reply
from veritee.upstream_sim.settings import SimSettings

_log = logging.getLogger(__name__)
_NOW = Pacing()
_CHAT_PATHS = {"/v1/chat/completions": "openai", "/v1/messages": "anthropic"}


class SimApp:
    """The application the HTTP layer calls for every request."""

    def __init__(self, settings: SimSettings, holds: Holds) -> None:
        self.settings = settings
        self.holds = holds
        self.journal = Journal()
        self.count = 0
        self._created = settings.epoch if settings.epoch is not None else int(time.time())
        self._fingerprint = system_fingerprint(settings.seed)
        self._openai = OpenAIDialect()
        self._anthropic = AnthropicDialect()

    def __call__(self, request: Request, conn: Connection) -> Coroutine[Any, Any, None] | None:
        try:
            reply, pacing = self._respond(request)
        except Exception:  # noqa: BLE001 - a bug here must not kill the connection silently
            _log.exception("upstream-sim failed on %s %s", request.method, request.path)
            reply, pacing = Reply(500, (("content-type", "text/plain"),), b"simulator bug\n"), _NOW
        if pacing.immediate:
            deliver_now(reply, conn)
            return None
        return deliver(reply, pacing, conn, self.holds)

    def _respond(self, request: Request) -> tuple[Reply, Pacing]:
        if request.path.startswith("/_sim/"):
            return control(request, self.holds, self.journal, self.count), _NOW
        dialect = self._dialect(request)
        self.count += 1
        self.journal.record(self.count, request)
        ids = RequestIds(self.settings.seed, self.count)
        refusal = self._refusal(request, dialect)
        if refusal is None:
            try:
                directives = parse_directives(request.headers.get("x-sim", ""))
            except DirectiveError as exc:
                refusal = SimError(ErrorKind.INVALID_REQUEST, str(exc), "x-sim")
        if refusal is not None:
            return dialect.error(refusal, self._exchange(ids, NO_DIRECTIVES)), _NOW
        if request.method == "GET":
            return self._finish(dialect, directives, ids, None, _models_path(request.path))
        try:
            chat = dialect.parse(request)
            directives = directives.merged(chat.markers)
        except (RequestInvalid, DirectiveError) as exc:
            param = exc.param if isinstance(exc, RequestInvalid) else "x-sim"
            code = exc.code if isinstance(exc, RequestInvalid) else None
            error = SimError(ErrorKind.INVALID_REQUEST, str(exc), param, code)
            return self._finish(dialect, directives, ids, error, None)
        return self._finish(dialect, directives, ids, chat, None)

    def _finish(
        self,
        dialect: Dialect,
        directives: Directives,
        ids: RequestIds,
        what: ParsedChat | SimError | None,
        model: str | None,
    ) -> tuple[Reply, Pacing]:
        """Apply directives: render (chat, error or models), fault it, pace it."""
        settings = self.settings
        exchange = self._exchange(ids, directives)
        latency = exchange.latency_ms
        failure = fault_error(directives.fault, directives.retry_after)
        if isinstance(what, SimError):
            failure = failure or what
        if failure is not None:
            reply = dialect.error(failure, exchange)
        elif isinstance(what, ParsedChat):
            reply = corrupt(dialect.render(what, exchange), directives.fault)
        else:
            reply = corrupt(dialect.models(exchange, model or None), directives.fault)
        pacing = Pacing(
            latency=latency / 1000,
            chunk_delay=_pick(directives.chunk_delay_ms, settings.chunk_delay_ms) / 1000,
            fault=directives.fault if directives.fault in WIRE_FAULTS else None,
            hold=directives.hold,
            stall_max=settings.stall_max_s,
            hold_max=settings.hold_max_s,
        )
        return reply, pacing

    def _exchange(self, ids: RequestIds, directives: Directives) -> Exchange:
        settings = self.settings
        return Exchange(
            ids=ids,
            created=self._created,
            fingerprint=self._fingerprint,
            chunks=directives.chunks if directives.chunks is not None else settings.chunks,
            words=directives.words,
            latency_ms=_pick(directives.latency_ms, settings.latency_ms),
        )

    def _dialect(self, request: Request) -> Dialect:
        kind = _CHAT_PATHS.get(request.path)
        if kind is None:
            kind = "anthropic" if "anthropic-version" in request.headers else "openai"
        return self._anthropic if kind == "anthropic" else self._openai

    def _refusal(self, request: Request, dialect: Dialect) -> SimError | None:
        """Auth, then route: the errors answered before anything else."""
        key = _presented_key(request.headers)
        if not key:
            message = (
                "x-api-key header is required"
                if dialect.name == "anthropic"
                else "You didn't provide an API key. You need to provide your API key in an "
                "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY)."
            )
            return SimError(ErrorKind.AUTHENTICATION, message)
        if self.settings.api_key is not None and key != self.settings.api_key:
            return SimError(
                ErrorKind.AUTHENTICATION, "Incorrect API key provided.", code="invalid_api_key"
            )
        chat = request.path in _CHAT_PATHS
        if not chat and _models_path(request.path) is None:
            message = f"Invalid URL ({request.method} {request.path})"
            return SimError(ErrorKind.NOT_FOUND, message)
        if request.method != ("POST" if chat else "GET"):
            message = f"Method {request.method} not allowed for {request.path}"
            return SimError(ErrorKind.METHOD_NOT_ALLOWED, message)
        return None


def _pick(asked: int | None, default: int) -> int:
    return asked if asked is not None else default


def _models_path(path: str) -> str | None:
    """``""`` for ``/v1/models``, the id for ``/v1/models/{id}``, ``None`` otherwise."""
    if path == "/v1/models":
        return ""
    if path.startswith("/v1/models/") and len(path) > len("/v1/models/"):
        return path[len("/v1/models/") :]
    return None


def _presented_key(headers: dict[str, str]) -> str:
    """The API key of a request: ``x-api-key`` or an ``Authorization: Bearer`` token."""
    key = headers.get("x-api-key", "").strip()
    if key:
        return key
    auth = headers.get("authorization", "")
    if auth[:7].lower() == "bearer ":
        return auth[7:].strip()
    return ""
