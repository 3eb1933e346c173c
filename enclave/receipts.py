"""The receipt log: one hash chain per signing key, signed in ``seq`` order.

:meth:`ReceiptLog.sign` is the only place that assigns ``seq`` and ``prev``. It holds a
lock from choosing ``seq`` to appending the signed receipt, so concurrent exchanges
(event-loop tasks or threads) can never fork or reorder the chain. The log keeps the
most recent ``capacity`` receipts in memory for ``GET /v1/receipts`` (the gateway
stores them durably); an evicted receipt is simply absent, and a reader sees the gap
because every receipt names its ``seq``.
"""

from __future__ import annotations

import base64
import hashlib
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from enclave.identity import Clock, Identity
from transcript.digest import receipt_digest
from transcript.hexfields import ZERO_HASH
from transcript.keys import SigningKey
from transcript.receipt import Receipt, ReceiptBody, Status, Upstream


@dataclass(frozen=True, slots=True)
class Outcome:
    """What the enclave observed of one exchange: everything a receipt records but the chain."""

    request_sha256: str
    response_sha256: str
    stream: bool
    status: Status
    http_status: int
    model: str
    upstream: Upstream
    usage: Mapping[str, int] | None = None
    client_nonce: str | None = None
    caller: str | None = None


@dataclass(frozen=True, slots=True)
class LoggedReceipt:
    """A signed receipt with its wire form (canonical JSON of ``{"body", "sig"}``)."""

    receipt: Receipt
    wire: bytes

    @property
    def seq(self) -> int:
        return self.receipt.body.seq

    def header(self) -> str:
        """The ``veritee-receipt`` header value: unpadded base64url of the wire form."""
        return base64.urlsafe_b64encode(self.wire).rstrip(b"=").decode("ascii")


class ReceiptLog:
    """Signs receipts into the chain and keeps the latest ``capacity`` of them."""

    def __init__(
        self,
        identity: Identity,
        *,
        capacity: int,
        clock: Clock,
        on_signed: Callable[[Receipt], None] | None = None,
    ) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self._identity = identity
        self._keyset_hex = identity.keyset_hash.hex()
        self._capacity = capacity
        self._clock = clock
        self._on_signed = on_signed
        self._lock = threading.Lock()
        self._by_seq: dict[int, LoggedReceipt] = {}
        self._seq_by_id: dict[str, int] = {}
        self._first_held = 1
        self._last_seq = 0
        self._prev = ZERO_HASH

    @property
    def last_seq(self) -> int:
        return self._last_seq

    @property
    def first_held_seq(self) -> int:
        return self._first_held

    def sign(self, outcome: Outcome) -> LoggedReceipt:
        """Give ``outcome`` the next ``seq``, link it, sign it, and append it."""
        with self._lock:
            body = ReceiptBody(
                signer=self._identity.address,
                keyset=self._keyset_hex,
                seq=self._last_seq + 1,
                prev=self._prev,
                time_ms=self._clock(),
                request_sha256=outcome.request_sha256,
                response_sha256=outcome.response_sha256,
                stream=outcome.stream,
                status=outcome.status,
                http_status=outcome.http_status,
                model=outcome.model,
                upstream=outcome.upstream,
                usage=outcome.usage,
                client_nonce=outcome.client_nonce,
                caller=outcome.caller,
            )
            logged = _sign(self._identity.key, body)
            receipt = logged.receipt
            self._last_seq = body.seq
            self._prev = receipt.id
            self._by_seq[body.seq] = logged
            self._seq_by_id[receipt.id] = body.seq
            if len(self._by_seq) > self._capacity:
                evicted = self._by_seq.pop(self._first_held)
                del self._seq_by_id[evicted.receipt.id]
                self._first_held += 1
            if self._on_signed is not None:
                self._on_signed(receipt)
            return logged

    def since(self, after_seq: int, limit: int) -> list[LoggedReceipt]:
        """Held receipts with ``seq > after_seq``, in order, at most ``limit``."""
        with self._lock:
            start = max(after_seq + 1, self._first_held)
            stop = min(self._last_seq, start + limit - 1)
            return [self._by_seq[s] for s in range(start, stop + 1)]

    def get(self, receipt_id: str) -> LoggedReceipt | None:
        with self._lock:
            seq = self._seq_by_id.get(receipt_id)
            return None if seq is None else self._by_seq[seq]


def _sign(key: SigningKey, body: ReceiptBody) -> LoggedReceipt:
    """``transcript.sign_receipt`` with the wire form built from the same canonical bytes.

    The wire form is the canonical JSON of ``{"body": ..., "sig": ...}``; since ``body``
    sorts before ``sig``, it is the canonical body between fixed bytes. Canonicalising
    the body once instead of twice is a fifth of the signing cost on the hot path
    (``tests/enclave/test_receipts.py`` checks both against ``transcript``).
    """
    canonical = body.canonical()
    body_hash = hashlib.sha256(canonical).digest()
    signature = key.sign_digest(receipt_digest(body_hash))
    wire = b'{"body":' + canonical + b',"sig":"' + signature.hex().encode() + b'"}'
    return LoggedReceipt(Receipt(body=body, signature=signature, body_hash=body_hash), wire)
