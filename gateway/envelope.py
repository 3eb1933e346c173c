"""Errors at the HTTP edge: the OpenAI envelope ``{"error": {"message","type","param","code"}}``."""

from __future__ import annotations

from collections.abc import Mapping

import orjson
from starlette.responses import Response

from gateway.errors import ApiError

JSON = "application/json"


def envelope(
    message: str,
    *,
    type: str,
    param: str | None = None,
    code: str | None = None,
) -> bytes:
    return orjson.dumps({"error": {"message": message, "type": type, "param": param, "code": code}})


def error_response(error: ApiError, headers: Mapping[str, str] | None = None) -> Response:
    body = envelope(error.message, type=error.type, param=error.param, code=error.code)
    merged = {**(headers or {}), **error.headers}
    return Response(body, status_code=error.status, media_type=JSON, headers=merged)


def error_event(message: str, *, type: str, code: str) -> bytes:
    """An error as a server-sent event: the ``openai`` SDK raises ``APIError`` on it."""
    return b"data: " + envelope(message, type=type, code=code) + b"\n\n"
