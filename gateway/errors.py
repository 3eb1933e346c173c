"""Errors raised by the gateway package.

The tree, drawn once::

    GatewayError                     base of everything raised here
    ├── ConfigError                  the configuration file is invalid (CLI exit 2); ``key`` names it
    ├── ApiError                     an answer for an HTTP client in the OpenAI error envelope,
    │                                with its status (400, 401, 403, 404, 413, 429, 502, 503...)
    ├── StoreError                   the receipt/tenant store failed (cannot open, cannot write)
    └── EnclaveUnavailable           an enclave did not answer (connection refused or reset,
                                     timeout, a reply cut before its end): safe to fail over,
                                     as long as nothing has reached the client yet

``ApiError`` is raised where the problem is found and turned into a response at the edge
(:mod:`gateway.envelope`); nothing below the edge builds error responses by hand.
"""

from __future__ import annotations

from collections.abc import Mapping


class GatewayError(Exception):
    """Base class for every error raised by :mod:`gateway`."""


class ConfigError(GatewayError, ValueError):
    """The gateway configuration is invalid. ``key`` names the offending setting."""

    def __init__(self, message: str, *, key: str | None = None) -> None:
        self.key = key
        super().__init__(f"{key}: {message}" if key else message)


class ApiError(GatewayError):
    """An error answer for an HTTP client: the OpenAI envelope fields, status, extra headers."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.status = status
        self.message = message
        self.type = type
        self.param = param
        self.code = code
        self.headers = dict(headers or {})
        super().__init__(f"{status} {message}")


class StoreError(GatewayError):
    """The store could not be opened, read or written."""


class EnclaveUnavailable(GatewayError):
    """No usable reply from an enclave: the request may be retried on another one.

    ``refused``: the connection itself failed (nothing was sent; the enclave is down).
    """

    def __init__(self, message: str, *, refused: bool = False) -> None:
        self.refused = refused
        super().__init__(message)
