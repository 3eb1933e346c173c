"""Identifiers that look like the providers' but derive from ``seed`` and a request counter.

The server numbers requests to the dialect endpoints 1, 2, 3, ... in the order it reads
them. Every id of request ``n`` is ``prefix + alnum(sha256(f"{seed}|{label}|{n}"))`` cut to
the provider's length, where ``alnum`` is standard base64 with ``+`` and ``/`` read as ``x``
and ``y``; so a test that knows the seed and how many requests it sent can predict every
id (``RequestIds(seed, n).completion_id`` and so on).
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from functools import cached_property

_ALNUM = bytes.maketrans(b"+/", b"xy")


def derive(seed: str, label: str, counter: int, length: int) -> str:
    """``length`` (at most 43) letters and digits from ``sha256(f"{seed}|{label}|{counter}")``."""
    digest = hashlib.sha256(f"{seed}|{label}|{counter}".encode()).digest()
    return base64.b64encode(digest).translate(_ALNUM)[:length].decode()


def system_fingerprint(seed: str) -> str:
    """OpenAI's ``system_fingerprint``: one per server, like one per deployment."""
    return "fp_" + hashlib.sha256(f"{seed}|fingerprint".encode()).hexdigest()[:10]


@dataclass(frozen=True)
class RequestIds:
    """All ids of request number ``counter`` (1-based) on a server seeded with ``seed``."""

    seed: str
    counter: int

    @cached_property
    def request_id(self) -> str:
        """``x-request-id`` (OpenAI) and ``request-id`` (Anthropic) header value."""
        return "req_" + derive(self.seed, "request", self.counter, 24)

    @cached_property
    def completion_id(self) -> str:
        """OpenAI ``chatcmpl-...`` id, shared by every chunk of a stream."""
        return "chatcmpl-" + derive(self.seed, "completion", self.counter, 29)

    @cached_property
    def message_id(self) -> str:
        """Anthropic ``msg_01...`` id."""
        return "msg_01" + derive(self.seed, "message", self.counter, 22)

    def tool_call_id(self, index: int) -> str:
        """OpenAI ``call_...`` id of tool call ``index`` (across choices, 0-based)."""
        return "call_" + derive(self.seed, f"call{index}", self.counter, 24)

    def tool_use_id(self, index: int) -> str:
        """Anthropic ``toolu_01...`` id of tool use ``index`` (0-based)."""
        return "toolu_01" + derive(self.seed, f"toolu{index}", self.counter, 22)
