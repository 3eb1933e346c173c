"""The publisher: every checkpoint in the gateway's store, anchored once, in order.

Each round, for every signer with checkpoints in the store, it reads the signer's chain head
(one call) and walks the signer's checkpoints that are not final yet, in ``first_seq``
order. For each, the record in the store (``AnchorStore``) says where it stands:

- ``submitted`` (a transaction was signed; the hash was stored *before* it was sent):
  reconciled with the chain first (``AnchorClient.find``; else the transaction's own
  fate): confirmed, still in flight (wait), or never sent (send again);
- inside the range the chain already holds: confirmed from the chain's own history if it
  is exactly the anchored checkpoint (a restart, another publisher), otherwise submitted so
  that the contract judges the overlap;
- otherwise: submitted, and waited for. A refusal is judged by
  :mod:`gateway.anchoring.refusals` (``waiting``: try again next round; ``rejected``: never).

So after a crash at any point (even between sending a transaction and storing its receipt)
nothing is lost and nothing is sent twice, and a signer's checkpoints go out in seq order.
Chain calls are blocking web3 calls and run in a worker thread, one at a time.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Protocol, TypeVar

from gateway.anchoring.chain import AnchorChain, read_history, transaction_fate
from gateway.anchoring.refusals import judge, revoked_reason
from gateway.anchoring.registrar import Registrar
from gateway.clock import WallMs, wall_ms
from gateway.errors import StoreError
from gateway.loops import pause
from gateway.obs.logs import event
from gateway.store.base import AnchorRecord, AnchorState, AnchorStore, CheckpointStore
from transcript.checkpoint import SignedCheckpoint
from verifier.anchor import AnchoredHistory, Anchoring, ChainUnavailable, ContractRejected

log = logging.getLogger("gateway.anchoring")
T = TypeVar("T")
PAGE = 500
#: Checkpoints one signer may anchor per round; the other signers get their turn.
MAX_PER_ROUND = 64
FINAL: frozenset[AnchorState] = frozenset({"confirmed", "rejected"})


class PublisherStore(CheckpointStore, AnchorStore, Protocol):
    """What the publisher needs of the gateway's store."""


@dataclass
class SignerResult:
    """What one round did for one signer. ``state``: ``up to date``, ``waiting``,
    ``blocked``, ``in flight`` or ``unavailable``; ``message`` says why."""

    signer: str
    anchored: list[int] = field(default_factory=list)  # first_seq of each, this round
    learned: int = 0  # found anchored already (restart, another publisher)
    rejected: int = 0
    state: str = "up to date"
    message: str | None = None


@dataclass
class RoundReport:
    signers: dict[str, SignerResult] = field(default_factory=dict)
    registered: list[str] = field(default_factory=list)


class _Stop(Exception):
    """Stop this signer for the round (the result says why)."""


class Publisher:
    def __init__(
        self,
        *,
        store: PublisherStore,
        chain: AnchorChain,
        registrar: Registrar | None = None,
        clock_ms: WallMs = wall_ms,
        max_per_round: int = MAX_PER_ROUND,
        confirmations: int = 1,
    ) -> None:
        self._store = store
        self._chain = chain
        self._registrar = registrar
        self._clock_ms = clock_ms
        self._max = max_per_round
        self._confirmations = confirmations
        self._frontier: dict[str, int] = {}  # every checkpoint with first_seq <= it is final
        self._revoked: dict[str, str] = {}
        self._heads: dict[str, int] = {}  # each signer's anchored last seq, as last seen
        self._blocked: dict[str, str] = {}  # why a signer's next checkpoint can never anchor

    @property
    def contract(self) -> str:
        return self._chain.contract

    async def run(self, interval: float) -> None:
        """Rounds forever, ``interval`` seconds apart; a failed round is logged, not fatal."""
        while True:
            try:
                await self.round()
            except (StoreError, ChainUnavailable) as exc:
                event(log, "anchoring round failed", logging.WARNING, reason=str(exc))
            await pause(interval)

    async def round(self) -> RoundReport:
        report = RoundReport()
        if self._registrar is not None:
            report.registered = await self._registrar.register_new()
        for signer in await self._store.checkpoint_signers():
            result = SignerResult(signer)
            try:
                await self._signer(result)
            except _Stop:
                pass
            except ChainUnavailable as exc:
                result.state, result.message = "unavailable", exc.reason
            if signer in self._blocked and result.state == "up to date":
                result.state, result.message = "blocked", self._blocked[signer]
            report.signers[signer] = result
        return report

    # -- one signer ------------------------------------------------------------------------

    async def _signer(self, result: SignerResult) -> None:
        signer = result.signer
        head = (await self._call(self._chain.anchor.head, signer)).last_seq
        self._heads[signer] = head
        history: list[AnchoredHistory] = []  # read at most once per round, when needed
        budget = self._max
        while budget > 0:
            frontier = self._frontier.get(signer, 0)
            page = await self._store.checkpoints(signer, after_seq=frontier, limit=PAGE)
            if not page:
                return
            records = {
                r.first_seq: r
                for r in await self._store.anchor_records(
                    self.contract, signer, after_seq=frontier, limit=PAGE
                )
            }
            leading = True
            for stored in page:
                cp = stored.checkpoint
                first = cp.checkpoint.first_seq
                record = records.get(first)
                if record is not None and record.state == "rejected" and first == head + 1:
                    self._blocked[signer] = f"seq {first}..{record.last_seq}: {record.error}"
                if record is None or record.state not in FINAL:
                    record = await self._settle(result, cp, record, head, history)
                    budget -= 1
                    if record.state == "confirmed":
                        head = max(head, cp.checkpoint.last_seq)
                        self._heads[signer] = head
                        self._blocked.pop(signer, None)
                        if result.state == "blocked":  # that one was off the path, not this
                            result.state = "up to date"
                if record.state not in FINAL:
                    leading = False
                if leading:
                    self._frontier[signer] = first
                if budget <= 0:
                    break
            if not leading or len(page) < PAGE:
                return

    async def _settle(
        self,
        result: SignerResult,
        cp: SignedCheckpoint,
        record: AnchorRecord | None,
        head: int,
        history: list[AnchoredHistory],
    ) -> AnchorRecord:
        """Bring one checkpoint to its next state; raise _Stop when the signer must wait."""
        signer = result.signer
        if record is not None and record.state == "submitted":
            return await self._reconcile(result, cp, record)
        if cp.checkpoint.first_seq <= head:
            if not history:
                history.append(await self._call(read_history, self._chain, signer))
            entry = history[0].covering(cp.checkpoint.first_seq)
            if entry is not None and entry.digest == cp.hash:
                result.learned += 1
                anchoring = Anchoring(
                    entry.index, entry.digest, entry.tx_hash, entry.block_number, 0
                )
                return await self._confirmed(result, cp, anchoring, known=True)
        if signer in self._revoked:
            return await self._finish(result, cp, "rejected", self._revoked[signer])
        return await self._submit(result, cp, record)

    async def _submit(
        self, result: SignerResult, cp: SignedCheckpoint, record: AnchorRecord | None
    ) -> AnchorRecord:
        loop = asyncio.get_running_loop()

        def stored_before_sending(tx_hash: bytes, nonce: int) -> None:
            submitted = self._record(cp, "submitted", tx_hash=tx_hash.hex(), nonce=nonce)
            put = self._store.put_anchor_record(submitted)
            asyncio.run_coroutine_threadsafe(put, loop).result(timeout=60)

        try:
            tx_hash = await self._call(self._chain.anchor.send, cp, on_signed=stored_before_sending)
        except ContractRejected as exc:
            return await self._refused(result, cp, exc, record)
        return await self._await_mined(result, cp, tx_hash)

    async def _await_mined(
        self, result: SignerResult, cp: SignedCheckpoint, tx_hash: bytes
    ) -> AnchorRecord:
        try:
            anchoring = await self._call(self._chain.anchor.confirm, cp, tx_hash)
        except ChainUnavailable as exc:
            result.state, result.message = "in flight", f"0x{tx_hash.hex()}: {exc.reason}"
            raise _Stop from None
        except ContractRejected as exc:  # mined, but reverted: someone anchored first?
            found = await self._call(self._chain.anchor.find, cp)
            if found is None:
                return await self._refused(result, cp, exc, None)
            result.learned += 1
            return await self._confirmed(result, cp, found, known=True)
        record = await self._confirmed(result, cp, anchoring, known=False)
        result.anchored.append(cp.checkpoint.first_seq)
        return record

    async def _reconcile(
        self, result: SignerResult, cp: SignedCheckpoint, record: AnchorRecord
    ) -> AnchorRecord:
        """A transaction was signed for ``cp`` (maybe sent, maybe mined) before we lost track."""
        found = await self._call(self._chain.anchor.find, cp)
        if found is not None:
            result.learned += 1
            return await self._confirmed(result, cp, found, known=True)
        tx_hash = bytes.fromhex(record.tx_hash or "00" * 32)
        fate = await self._call(transaction_fate, self._chain, tx_hash)
        if fate == "pending":
            return await self._await_mined(result, cp, tx_hash)
        said = {
            "unknown": "never reached the chain",
            "reverted": "reverted",
            "mined": "was mined but the checkpoint is not on the chain (reorganised?)",
        }[fate]
        record = self._record(cp, "waiting", error=f"transaction 0x{tx_hash.hex()} {said}")
        await self._store.put_anchor_record(record)
        return await self._submit(result, cp, record)

    async def _refused(
        self,
        result: SignerResult,
        cp: SignedCheckpoint,
        refusal: ContractRejected,
        record: AnchorRecord | None,
    ) -> AnchorRecord:
        signer = cp.checkpoint.signer
        enclave = None
        if refusal.error_name == "EnclaveNotActive":
            enclave = await self._call(self._chain.registry.enclave, signer)
            revoked = revoked_reason(enclave)
            if revoked is not None:
                self._revoked[signer] = f"the anchor refused it: EnclaveNotActive: {revoked}"
            elif self._registrar is not None and await self._registrar.register_signer(signer):
                return await self._submit(result, cp, record)
        rejected_before = None
        if refusal.error_name == "NotContiguous":
            expected = int(str(refusal.error_args.get("expectedFirstSeq", 0)))
            blocker = await self._store.anchor_record(self.contract, signer, expected)
            if blocker is not None and blocker.state == "rejected":
                rejected_before = blocker.error
        verdict = judge(
            refusal,
            first_seq=cp.checkpoint.first_seq,
            enclave=enclave,
            rejected_before=rejected_before,
        )
        changed = record is None or record.error != verdict.reason
        return await self._finish(result, cp, verdict.state, verdict.reason, log_it=changed)

    async def _finish(
        self,
        result: SignerResult,
        cp: SignedCheckpoint,
        state: AnchorState,
        reason: str,
        *,
        log_it: bool = True,
    ) -> AnchorRecord:
        """Record a refusal. ``waiting`` stops the signer for this round; ``rejected`` is final
        and the walk goes on (a later checkpoint is judged on its own)."""
        record = self._record(cp, state, error=reason)
        await self._store.put_anchor_record(record)
        signer, first = cp.checkpoint.signer, cp.checkpoint.first_seq
        if state == "rejected" and first == self._heads.get(signer, 0) + 1:
            self._blocked[signer] = f"seq {first}..{cp.checkpoint.last_seq}: {reason}"
        if log_it:
            event(log, f"checkpoint {state}", logging.WARNING, signer=cp.checkpoint.signer,
                  first_seq=cp.checkpoint.first_seq, last_seq=cp.checkpoint.last_seq,
                  reason=reason)  # fmt: skip
        result.message = f"seq {cp.checkpoint.first_seq}..{cp.checkpoint.last_seq}: {reason}"
        if state == "waiting":
            result.state = "waiting"
            raise _Stop
        result.rejected += 1
        result.state = "blocked"
        return record

    async def _confirmed(
        self, result: SignerResult, cp: SignedCheckpoint, anchoring: Anchoring, *, known: bool
    ) -> AnchorRecord:
        """Record ``anchoring`` as final once its block is ``confirmations`` deep; until then
        the record stays ``submitted`` (reconciled next round, so a reorganisation that drops
        the transaction sends the checkpoint again)."""
        if self._confirmations > 1:
            latest = await self._call(lambda: int(self._chain.w3.eth.block_number))
            depth = latest - anchoring.block_number + 1
            if depth < self._confirmations:
                pending = self._record(cp, "submitted", tx_hash=anchoring.tx_hash.hex())
                await self._store.put_anchor_record(pending)
                result.state = "in flight"
                result.message = (
                    f"0x{anchoring.tx_hash.hex()} is in block {anchoring.block_number}, "
                    f"{depth} of {self._confirmations} confirmations"
                )
                raise _Stop
        record = self._record(
            cp,
            "confirmed",
            tx_hash=anchoring.tx_hash.hex(),
            block_number=anchoring.block_number,
            index=anchoring.index,
            gas_used=anchoring.gas_used or None,
        )
        await self._store.put_anchor_record(record)
        event(log, "checkpoint anchored" if not known else "checkpoint found anchored",
              signer=cp.checkpoint.signer, first_seq=cp.checkpoint.first_seq,
              last_seq=cp.checkpoint.last_seq, tx=record.tx_hash, block=anchoring.block_number,
              gas=anchoring.gas_used or None)  # fmt: skip
        return record

    def _record(self, cp: SignedCheckpoint, state: AnchorState, **fields: Any) -> AnchorRecord:
        c = cp.checkpoint
        base = AnchorRecord(
            contract=self.contract, signer=c.signer, first_seq=c.first_seq, last_seq=c.last_seq,
            checkpoint_hash=cp.hash.hex(), state=state, updated_ms=self._clock_ms(),
            chain_id=self._chain.chain_id,
        )  # fmt: skip
        return replace(base, **fields)

    async def _call(self, func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return await asyncio.to_thread(func, *args, **kwargs)
