"""One client request on its way through the gateway, and the headers it carries back."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from gateway.store.base import ApiKeyRecord

# Enclave reply headers that describe the hop, not the answer: never relayed.
HOP_HEADERS = frozenset(
    {
        "connection", "keep-alive", "transfer-encoding", "content-length", "date", "server",
        "proxy-connection", "te", "trailer", "upgrade",
    }
)  # fmt: skip
# Client headers relayed to the enclave (the receipt records the last two). When the client
# sends no caller binding, the gateway sets it to the API key's id, so that the signed
# receipt names the key the request came with (as the gateway said).
CALLER = "veritee-caller"
FORWARDED = ("content-type", "veritee-nonce", CALLER)
RECEIPT_HEADER = "veritee-receipt"


@dataclass(slots=True)
class Call:
    request_id: str
    key: ApiKeyRecord
    model: str
    stream: bool
    body: bytes
    body_sha256: str
    upstream_headers: dict[str, str]  # what goes to the enclave
    reply_headers: dict[str, str]  # what the gateway adds to the answer (ids, rate limits)
    started: float = field(default_factory=time.perf_counter)
    attempts: int = 0
    enclave: str | None = None


def relayed_headers(
    reply: Mapping[str, str], extra: Mapping[str, str]
) -> list[tuple[bytes, bytes]]:
    """The enclave's reply headers minus hop-by-hop ones, plus the gateway's, as ASGI pairs."""
    out = [
        (k.lower().encode("latin-1"), v.encode("latin-1"))
        for k, v in reply.items()
        if k.lower() not in HOP_HEADERS and k.lower() not in extra
    ]
    out.extend((k.encode("latin-1"), v.encode("latin-1")) for k, v in extra.items())
    return out
