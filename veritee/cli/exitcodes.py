"""Exit codes shared by every subcommand, and the one place that maps errors onto them."""

from __future__ import annotations

import sys
from collections.abc import Callable

from attestation.errors import AttestationError, InvalidReportData, MalformedEvidence
from transcript.errors import (
    MalformedCheckpoint,
    MalformedProof,
    MalformedReceipt,
    SignatureInvalid,
)
from verifier.errors import BadInput, CouldNotCheck, VerificationFailed

OK = 0
VERIFICATION_FAILED = 1
BAD_INPUT = 2
COULD_NOT_CHECK = 3

_BAD_INPUT = (
    BadInput,
    MalformedEvidence,
    InvalidReportData,
    MalformedReceipt,
    MalformedCheckpoint,
    MalformedProof,
)


def classify(exc: BaseException) -> tuple[int, str]:
    """The exit code for an error, and the word that introduces its message."""
    if isinstance(exc, _BAD_INPUT):
        return BAD_INPUT, "bad input"
    if isinstance(exc, VerificationFailed | SignatureInvalid):
        return VERIFICATION_FAILED, "FAILED"
    if isinstance(exc, CouldNotCheck):
        return COULD_NOT_CHECK, "could not check"
    if isinstance(exc, OSError):
        return BAD_INPUT, "bad input"
    if isinstance(exc, AttestationError):
        return COULD_NOT_CHECK, "could not check"
    return COULD_NOT_CHECK, "could not check: internal error"


def describe(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return f"{exc.strerror}: {exc.filename}" if exc.filename else exc.strerror
    if type(exc).__module__.split(".")[0] not in ("verifier", "attestation", "transcript"):
        return f"{type(exc).__name__}: {exc}"
    return str(exc)


def guarded(func: Callable[[], int]) -> int:
    """Run ``func``; turn every error into a one-line message and a meaningful exit code.

    Never lets a traceback reach the user. Errors we do not know are reported as
    "could not check" (3): no verdict was reached, which is the honest answer.
    """
    try:
        return func()
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - the last line of defence against tracebacks
        code, label = classify(exc)
        print(f"{label}: {describe(exc)}", file=sys.stderr)
        return code
