"""Structured logs: one JSON object per line, metadata only.

Nothing here ever receives a prompt, a response, a header value or a key: call sites
pass named fields (ids, model names, statuses, durations, counts), and
``tests/gateway/test_logs.py`` checks that a request's content never reaches the log.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import orjson


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": round(record.created, 3),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if fields:
            entry.update(fields)
        if record.exc_info and record.exc_info[0] is not None:
            entry["error"] = record.exc_info[0].__name__
        return orjson.dumps(entry, default=str).decode()


def event(logger: logging.Logger, name: str, level: int = logging.INFO, **fields: Any) -> None:
    """Log ``name`` with ``fields`` as JSON members (skipped cheaply when disabled)."""
    if logger.isEnabledFor(level):
        logger.log(level, name, extra={"fields": fields})


def configure(level: str = "info") -> None:
    """Send every ``gateway`` (and uvicorn) log line to stderr as JSON. Called by the CLI."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    logging.getLogger("uvicorn.access").disabled = True
