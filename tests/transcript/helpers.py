"""Builders shared by transcript tests: a deterministic key and a chain of receipts."""

from __future__ import annotations

import hashlib

from transcript import Receipt, ReceiptBody, SigningKey, Upstream, sign_receipt
from transcript.hexfields import ZERO_HASH

KEY = SigningKey.from_secret(hashlib.sha256(b"veritee test key").digest())
KEYSET = hashlib.sha256(b"test keyset").hexdigest()


def make_body(seq: int, prev: str, *, key: SigningKey = KEY, **overrides: object) -> ReceiptBody:
    fields: dict[str, object] = {
        "signer": key.address,
        "keyset": KEYSET,
        "seq": seq,
        "prev": prev,
        "time_ms": 1_763_726_400_000 + seq,
        "request_sha256": hashlib.sha256(b"req %d" % seq).hexdigest(),
        "response_sha256": hashlib.sha256(b"resp %d" % seq).hexdigest(),
        "stream": False,
        "status": "complete",
        "http_status": 200,
        "model": "gpt-4o-mini",
        "upstream": Upstream(provider="openai", host="api.openai.com", request_id=f"req_{seq}"),
        "usage": {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7},
    }
    fields.update(overrides)
    return ReceiptBody(**fields)  # type: ignore[arg-type]


def make_chain(
    n: int, *, key: SigningKey = KEY, start: int = 1, prev: str = ZERO_HASH
) -> list[Receipt]:
    receipts = []
    for seq in range(start, start + n):
        receipt = sign_receipt(key, make_body(seq, prev, key=key))
        receipts.append(receipt)
        prev = receipt.id
    return receipts
