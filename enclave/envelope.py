"""The OpenAI error envelope: ``{"error": {"message", "type", "param", "code"}}``."""

from __future__ import annotations

import orjson
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
