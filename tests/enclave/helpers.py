"""Shared test helpers for the enclave: an identity, receipts with given outcomes."""

from __future__ import annotations

import hashlib
import itertools
import time
from typing import Any

from enclave.identity import Identity, create_identity
from enclave.receipts import LoggedReceipt, Outcome, ReceiptLog
from transcript.receipt import Upstream

DIGEST = "sha256:" + "ab" * 32
WEATHER: Any = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
            "required": ["city", "days"],
        },
    },
}


def minimal_settings(**sections: object) -> dict[str, object]:
    """Decoded TOML of the smallest valid enclave: one OpenAI-dialect upstream serving ``m``
    at ``https://u.example/v1``; each keyword replaces a section."""
    data: dict[str, object] = {
        "identity": {"image_digest": DIGEST},
        "attestation": {"provider": "simulated-sev-snp"},
        "upstreams": [
            {
                "name": "u",
                "dialect": "openai",
                "base_url": "https://u.example/v1",
                "api_key": "k",
                "models": ["m"],
            }
        ],
    }
    data.update(sections)
    return data


def identity(now_ms: int = 1_700_000_000_000) -> Identity:
    return create_identity(
        image_digest=DIGEST, platform="sev-snp", validity_seconds=3600, now_ms=now_ms
    )


class StepClock:
    """Milliseconds that advance by one on every read."""

    def __init__(self, start: int = 1_700_000_000_000) -> None:
        self._counter = itertools.count(start)

    def __call__(self) -> int:
        return next(self._counter)


def outcome(n: int = 0, **changes: object) -> Outcome:
    fields: dict[str, object] = {
        "request_sha256": hashlib.sha256(b"req%d" % n).hexdigest(),
        "response_sha256": hashlib.sha256(b"resp%d" % n).hexdigest(),
        "stream": False,
        "status": "complete",
        "http_status": 200,
        "model": "m",
        "upstream": Upstream(provider="p", host="h.example"),
    }
    fields.update(changes)
    return Outcome(**fields)  # type: ignore[arg-type]


def next_receipt(log: ReceiptLog, after_seq: int, *, within: float = 10.0) -> LoggedReceipt:
    """The receipt ``after_seq + 1``, once signed: a client that stops reading at an error
    event may return before the enclave has signed (it signs when it notices)."""
    deadline = time.monotonic() + within
    while log.last_seq <= after_seq:
        assert time.monotonic() < deadline, f"no receipt after seq {after_seq}"
        time.sleep(0.005)
    assert log.last_seq == after_seq + 1, "exactly one receipt per exchange"
    return log.since(after_seq, 1)[0]
