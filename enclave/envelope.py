"""The OpenAI error envelope: ``{"error": {"message", "type", "param", "code"}}``."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable

import orjson
from starlette.requests import Request
from starlette.responses import Response

from enclave.errors import ApiError

JSON = "application/json"


def envelope(
    message: str,
    *,
    type: str,
    param: str | None = None,
    code: str | None = None,
) -> bytes:
    return orjson.dumps({"error": {"message": message, "type": type, "param": param, "code": code}})


def error_response(error: ApiError) -> Response:
    body = envelope(error.message, type=error.type, param=error.param, code=error.code)
    return Response(body, status_code=error.status, media_type=JSON)


Endpoint = Callable[[Request], Awaitable[Response]]


def answers_errors(endpoint: Endpoint) -> Endpoint:
    """An endpoint whose :class:`ApiError` becomes its error response."""

    @functools.wraps(endpoint)
    async def wrapped(request: Request) -> Response:
        try:
            return await endpoint(request)
        except ApiError as exc:
            return error_response(exc)

    return wrapped
