"""Checking each receipt against the attested key, then storing it, verified or flagged.

:func:`check_receipt` decides a :data:`gateway.store.base.Verdict`: the receipt must parse,
name the signing key the enclave attested (its current identity, or the one before its
last re-attestation), carry that key's valid signature, name the attested keyset, and
commit to the exact bytes the gateway sent (``request_sha256``) and relayed
(``response_sha256``). Signature checks come first; the hash comparisons are policy.

:class:`ReceiptIngest` stores every receipt, whatever its verdict (a receipt that fails
is kept and flagged, never dropped), and ejects an enclave whose receipt failed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from gateway.clock import WallMs
from gateway.obs.metrics import Metrics
from gateway.pool.member import Identity, Member, State
from gateway.pool.pool import Pool
from gateway.store.base import ReceiptStore, Source, StoredReceipt, Verdict
from transcript.errors import MalformedReceipt, SignatureInvalid
from transcript.receipt import Receipt, parse_receipt


@dataclass(frozen=True, slots=True)
class Delivery:
    """What the gateway knows about how a receipt reached it."""

    enclave: str
    source: Source = "response"
    request_sha256: str | None = None  # of the bytes the gateway sent (None: not known)
    response_sha256: str | None = None  # of the bytes the gateway relayed
    tenant: str | None = None
    key_id: str | None = None
    request_id: str | None = None

    def known(self) -> dict[str, str | None]:
        """What a stored receipt records of its delivery."""
        return {
            "source": self.source,
            "enclave": self.enclave,
            "tenant": self.tenant,
            "key_id": self.key_id,
            "request_id": self.request_id,
        }


def total_tokens(usage: Mapping[str, int] | None) -> int | None:
    """Total tokens of a receipt's usage (OpenAI or Anthropic names)."""
    if not usage:
        return None
    if "total_tokens" in usage:
        return usage["total_tokens"]
    pairs = (("prompt_tokens", "completion_tokens"), ("input_tokens", "output_tokens"))
    for prompt, completion in pairs:
        if prompt in usage or completion in usage:
            return usage.get(prompt, 0) + usage.get(completion, 0)
    return None


def check_receipt(
    raw: bytes, identities: Sequence[Identity], delivery: Delivery, received_ms: int
) -> tuple[StoredReceipt, Receipt | None]:
    """Judge one receipt (``raw``: its canonical JSON). Never raises on bad input."""
    try:
        receipt = parse_receipt(raw)
    except MalformedReceipt as exc:
        return _flagged_raw(raw, delivery, received_ms, str(exc)), None
    body = receipt.body
    verdict: Verdict = "verified"
    problem: str | None = None
    identity = next((i for i in identities if i.address == body.signer), None)
    if identity is None:
        verdict, problem = "unknown_signer", f"signer {body.signer} is not the attested key"
    else:
        try:
            receipt.verify(identity.verifier)
        except SignatureInvalid as exc:
            verdict, problem = "signature_invalid", str(exc)
        else:
            verdict, problem = _policy(body.keyset, body.request_sha256, body.response_sha256,
                                       identity, delivery)  # fmt: skip
    usage = body.usage
    stored = StoredReceipt(
        id=receipt.id,
        raw=raw,
        verdict=verdict,
        problem=problem,
        received_ms=received_ms,
        time_ms=body.time_ms,
        signer=body.signer,
        seq=body.seq,
        keyset=body.keyset,
        model=body.model,
        status=body.status,
        stream=body.stream,
        total_tokens=total_tokens(usage),
        **delivery.known(),  # type: ignore[arg-type]
    )
    return stored, receipt


def _policy(
    keyset: str, request_sha256: str, response_sha256: str, identity: Identity, delivery: Delivery
) -> tuple[Verdict, str | None]:
    if keyset != identity.keyset_hash:
        return (
            "keyset_mismatch",
            f"names keyset {keyset}, the attested one is {identity.keyset_hash}",
        )
    if delivery.request_sha256 is not None and request_sha256 != delivery.request_sha256:
        return "request_mismatch", "request_sha256 is not the hash of the request the gateway sent"
    if delivery.response_sha256 is not None and response_sha256 != delivery.response_sha256:
        return "response_mismatch", "response_sha256 is not the hash of the bytes relayed"
    return "verified", None


def _flagged_raw(raw: bytes, delivery: Delivery, received_ms: int, problem: str) -> StoredReceipt:
    return StoredReceipt(
        id=hashlib.sha256(raw).hexdigest(),
        raw=raw,
        verdict="malformed",
        problem=problem,
        received_ms=received_ms,
        time_ms=received_ms,
        **delivery.known(),  # type: ignore[arg-type]
    )


class ReceiptIngest:
    def __init__(self, store: ReceiptStore, pool: Pool, metrics: Metrics, wall_ms: WallMs):
        self._store = store
        self._pool = pool
        self._metrics = metrics
        self._wall_ms = wall_ms

    async def accept(self, raw: bytes, member: Member, delivery: Delivery) -> StoredReceipt:
        """Check, store durably (raises StoreError), count, and eject on failure."""
        stored, receipt = check_receipt(raw, member.identities(), delivery, self._wall_ms())
        if stored.verdict == "unknown_signer" and delivery.source == "response":
            # Perhaps the enclave restarted with a new key: verify it again, then judge.
            await self._pool.reattest(member)
            stored, receipt = check_receipt(raw, member.identities(), delivery, self._wall_ms())
        await self._store.put_receipts([stored])
        self._judged(member, stored)
        if stored.verified and receipt is not None:
            usage = receipt.body.usage or {}
            model = receipt.body.model
            for kind, names in (("prompt", ("prompt_tokens", "input_tokens")),
                                ("completion", ("completion_tokens", "output_tokens"))):  # fmt: skip
                count = next((usage[n] for n in names if n in usage), 0)
                if count:
                    self._metrics.tokens.labels(model, kind).inc(count)
        return stored

    async def accept_log(self, raws: list[bytes], member: Member) -> list[StoredReceipt]:
        """Receipts copied from an enclave's log: checked, then stored in one write."""
        delivery = Delivery(enclave=member.name, source="log")
        now = self._wall_ms()
        stored = [check_receipt(raw, member.identities(), delivery, now)[0] for raw in raws]
        await self._store.put_receipts(stored)
        for one in stored:
            self._judged(member, one)
        return stored

    def _judged(self, member: Member, stored: StoredReceipt) -> None:
        self._metrics.receipts.labels(stored.verdict, stored.source).inc()
        if not stored.verified and member.state is State.ADMITTED:
            self._pool.eject(member, f"receipt.{stored.verdict}", stored.problem or "")
