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


def guarded(func: Callable[[], int]) -> int:
    """Run ``func``; turn every error into a one-line message and a meaningful exit code.

    Never lets a traceback reach the user. Errors we do not know are reported as
    "could not check" (3): no verdict was reached, which is the honest answer.
    """
    try:
        return func()
    except _BAD_INPUT as exc:
        _say(f"bad input: {exc}")
        return BAD_INPUT
    except (VerificationFailed, SignatureInvalid) as exc:
        _say(f"FAILED: {exc}")
        return VERIFICATION_FAILED
    except CouldNotCheck as exc:
        _say(f"could not check: {exc}")
        return COULD_NOT_CHECK
    except OSError as exc:
        _say(f"bad input: {exc.strerror or exc}: {getattr(exc, 'filename', '') or ''}".rstrip(": "))
        return BAD_INPUT
    except AttestationError as exc:
        _say(f"could not check: {exc}")
        return COULD_NOT_CHECK
    except KeyboardInterrupt:
        _say("interrupted")
        return 130
    except Exception as exc:  # noqa: BLE001 - the last line of defence against tracebacks
        _say(f"could not check: internal error: {type(exc).__name__}: {exc}")
        return COULD_NOT_CHECK


def _say(message: str) -> None:
    print(message, file=sys.stderr)
