"""Errors the simulator answers with, before each dialect puts them in its own envelope."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class ErrorKind(Enum):
    """The kinds of error both providers have; the value is the HTTP status."""

    INVALID_REQUEST = 400
    AUTHENTICATION = 401
    NOT_FOUND = 404
    METHOD_NOT_ALLOWED = 405
    RATE_LIMITED = 429
    SERVER = 500
    OVERLOADED = 529


@dataclass(frozen=True)
class SimError:
    """One error response: kind, message, and what OpenAI calls ``param`` and ``code``."""

    kind: ErrorKind
    message: str
    param: str | None = None
    code: str | None = None
    retry_after: int | None = None  # seconds, sent as ``retry-after`` when set
