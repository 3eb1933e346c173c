"""Query parameters, checked at the edge (400 in the OpenAI envelope on bad input)."""

from __future__ import annotations

from starlette.requests import Request

from enclave.errors import bad_request
from transcript.hexfields import MAX_JSON_INT


def uint_param(request: Request, name: str, default: int, *, high: int = MAX_JSON_INT) -> int:
    values = request.query_params.getlist(name)
    if not values:
        return default
    value = values[0]
    if len(values) > 1 or not value.isascii() or not value.isdigit() or len(value) > 16:
        raise bad_request(f"'{name}' must be an integer between 0 and {high}", param=name)
    number = int(value)
    if number > high:
        raise bad_request(f"'{name}' must be an integer between 0 and {high}", param=name)
    return number
