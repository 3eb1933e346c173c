"""Copying what each admitted enclave logged into the store: checkpoints and receipts.

Every ``store.sync_seconds`` the gateway fetches, from each admitted enclave, the
checkpoints it cut since the last one stored (``GET /v1/checkpoints?after=N``; each
signature verified, signer = the attested key) and the receipts of its log past the
store's cursor (``GET /v1/receipts?after_seq=N``). Receipts delivered with responses are
already stored, so the sync first asks for the enclave's last seq and counts the distinct
seqs stored up to it: when none is missing it only moves the cursor. Otherwise the log
brings in the rest (a stream whose client went away, replies
lost with a gateway replica), so the store can show a complete, gap-free chain. Stored
copies merge: what a response copy knew (tenant, request id) is kept.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

import orjson

from gateway.errors import EnclaveUnavailable, StoreError
from gateway.loops import pause
from gateway.obs.logs import event
from gateway.pool.member import Member
from gateway.pool.pool import Pool
from gateway.proxy.ingest import ReceiptIngest
from gateway.store.base import CheckpointStore, ReceiptStore
from gateway.transport import Transport, fetch
from transcript.canonical import CanonicalizationError, canonical_json_fast
from transcript.checkpoint import SignedCheckpoint
from transcript.errors import MalformedCheckpoint, SignatureInvalid

log = logging.getLogger("gateway.logsync")
PAGE = 1000
MAX_PAGES = 20  # per member per round: catching up never starves the other members


class LogSync:
    def __init__(
        self,
        *,
        pool: Pool,
        transport: Transport,
        receipts: ReceiptStore,
        checkpoints: CheckpointStore,
        ingest: ReceiptIngest,
        seconds: float,
        timeout: float,
    ) -> None:
        self._pool = pool
        self._transport = transport
        self._receipts = receipts
        self._checkpoints = checkpoints
        self._ingest = ingest
        self._seconds = seconds
        self._timeout = timeout

    async def run(self) -> None:
        while True:
            await pause(self._seconds)
            await self.sync_all()

    async def sync_all(self) -> None:
        for member in self._pool.admitted():
            try:
                await self.sync(member)
            except (EnclaveUnavailable, StoreError, ValueError) as exc:
                event(log, "log sync failed", logging.WARNING, enclave=member.name, reason=str(exc))

    async def sync(self, member: Member) -> None:
        await self._sync_checkpoints(member)
        await self._sync_receipts(member)

    async def _get(self, url: str) -> dict[str, Any]:
        status, raw = await fetch(self._transport, url, timeout=self._timeout)
        if status != 200:
            raise ValueError(f"{url} answered HTTP {status}")
        data = orjson.loads(raw)
        if type(data) is not dict or type(data.get("data")) is not list:
            raise ValueError(f"{url} is not a list")
        return data

    async def _sync_checkpoints(self, member: Member) -> None:
        identity = member.identity
        if identity is None:
            return
        latest = await self._checkpoints.latest_checkpoint(identity.address)
        after = latest.checkpoint.checkpoint.last_seq if latest else 0
        page = await self._get(f"{member.url}/v1/checkpoints?after={after}&limit={PAGE}")
        good: list[SignedCheckpoint] = []
        for item in page["data"]:
            try:
                checkpoint = SignedCheckpoint.from_dict(item)
                checkpoint.verify()
            except (MalformedCheckpoint, SignatureInvalid, TypeError, KeyError) as exc:
                event(
                    log,
                    "checkpoint rejected",
                    logging.WARNING,
                    enclave=member.name,
                    reason=str(exc),
                )
                continue
            if checkpoint.checkpoint.signer == identity.address:
                good.append(checkpoint)
        if good:
            await self._checkpoints.put_checkpoints(member.name, good)

    async def _sync_receipts(self, member: Member) -> None:
        identity = member.identity
        if identity is None:
            return
        signer = identity.address
        cursor = await self._receipts.sync_cursor(signer)
        head = await self._get(f"{member.url}/v1/receipts?after_seq={cursor}&limit=1")
        last = head.get("last_seq")
        if head.get("signer") != signer or type(last) is not int or last <= cursor:
            return
        if await self._receipts.count_seqs(signer, cursor, last) == last - cursor:
            # Every seq up to the enclave's last is stored (delivered with its response):
            # nothing to fetch. Anything else (a gap, a fork) is fetched and checked below.
            await self._receipts.set_sync_cursor(signer, last)
            return
        for _ in range(MAX_PAGES):
            page = await self._get(f"{member.url}/v1/receipts?after_seq={cursor}&limit={PAGE}")
            if page.get("signer") != signer or not page["data"]:
                return
            first_held = page.get("first_held_seq")
            if isinstance(first_held, int) and first_held > cursor + 1:
                event(log, "receipts left the enclave log before they were copied",
                      logging.WARNING, enclave=member.name, signer=signer,
                      missing_from=cursor + 1, missing_to=first_held - 1)  # fmt: skip
            entries = [_entry(item) for item in page["data"]]
            known = await self._receipts.existing([rid for rid, _, _ in entries if rid])
            fresh = [raw for rid, raw, _ in entries if rid not in known]
            if fresh:  # receipts delivered with their responses are stored (and checked) already
                await self._ingest.accept_log(fresh, member)
            cursor = max([cursor, *(seq for _, _, seq in entries)])
            await self._receipts.set_sync_cursor(signer, cursor)
            if not page.get("has_more"):
                return


def _entry(item: object) -> tuple[str | None, bytes, int]:
    """``(receipt id, canonical bytes, seq)`` of a log entry, without checking it yet.

    The id is the hash of the canonical body, as for any receipt: an entry whose id is
    stored already is the very receipt stored. Anything odd gets no id and is checked.
    """
    try:
        raw = canonical_json_fast(item)
    except CanonicalizationError:
        return None, orjson.dumps(item), 0
    body = item.get("body") if type(item) is dict else None
    if type(body) is not dict:
        return None, raw, 0
    seq = body.get("seq")
    try:
        rid = hashlib.sha256(canonical_json_fast(body)).hexdigest()
    except CanonicalizationError:
        return None, raw, 0
    return rid, raw, seq if type(seq) is int else 0
