"""Errors raised by the enclave package.

The tree, drawn once::

    EnclaveError                     base of everything raised here
    ├── ConfigError                  the configuration file or settings are invalid (CLI exit 2)
    ├── ApiError                     an answer to send to an HTTP client, in the OpenAI error
    │                                envelope, with its status code (400, 404, 413, 429, 502...)
    └── UpstreamUnavailable          the upstream could not be reached or did not answer
                                     (connection refused, TLS failure, timeout before a reply)

``ApiError`` is raised where bad input is found and turned into a response at the edge
(:mod:`enclave.envelope`); nothing below the edge builds responses by hand.
"""

from __future__ import annotations


class EnclaveError(Exception):
    """Base class for every error raised by :mod:`enclave`."""


class ConfigError(EnclaveError, ValueError):
    """The enclave configuration is invalid. ``key`` names the offending setting."""

    def __init__(self, message: str, *, key: str | None = None) -> None:
        self.key = key
        super().__init__(f"{key}: {message}" if key else message)


class ApiError(EnclaveError):
    """An error answer for an HTTP client (OpenAI envelope fields plus the status)."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
    ) -> None:
        self.status = status
        self.message = message
        self.type = type
        self.param = param
        self.code = code
        super().__init__(f"{status} {message}")


def bad_request(message: str, *, param: str | None = None, code: str | None = None) -> ApiError:
    """A 400 ``invalid_request_error``."""
    return ApiError(400, message, param=param, code=code)


class UpstreamUnavailable(EnclaveError):
    """No reply from the upstream: connection, TLS or timeout failure before any status.

    ``timeout`` tells a time-out (answered with 504) from other failures (502).
    """

    def __init__(self, message: str, *, timeout: bool = False) -> None:
        self.timeout = timeout
        super().__init__(message)
