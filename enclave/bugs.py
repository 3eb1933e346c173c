"""Logging an unexpected exception without what it carries.

Exception messages can hold fragments of prompts or answers (``KeyError: 'some text'``),
and the enclave's log is outside its trust boundary, so an internal error is logged as its
type and the code locations it passed through, never its message or arguments.
"""

from __future__ import annotations

import logging
import traceback


def log_bug(logger: logging.Logger, what: str, exc: BaseException) -> None:
    frames = traceback.extract_tb(exc.__traceback__)
    where = " <- ".join(f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno}" for f in reversed(frames))
    logger.error("%s: %s at %s", what, type(exc).__name__, where or "?")
