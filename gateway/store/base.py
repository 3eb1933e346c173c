"""What the gateway stores, and the interfaces of the stores that hold it.

Four interfaces, one database: :class:`ReceiptStore` (every receipt the gateway saw,
verified or flagged, never dropped), :class:`CheckpointStore` (the checkpoints enclaves
signed), :class:`AnchorStore` (where each checkpoint stands on the anchor chain, and the
attestation documents that admitted each signing key) and :class:`TenantStore` (API keys,
hashed). A backend (:mod:`gateway.store.sqlite`, :mod:`gateway.store.postgres`, and the
in-memory fake :mod:`gateway.store.memory`) implements all four as one :class:`Store`.

``put_*`` returns only once the data is durable (committed); stores batch concurrent
writes into one commit so that durability does not serialise the gateway.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol, Self

from transcript.checkpoint import SignedCheckpoint

Verdict = Literal[
    "verified",  # signed by the attested key of the enclave that delivered it, hashes match
    "malformed",  # not a well-formed receipt at all (the raw bytes are kept)
    "unknown_signer",  # signed by (or naming) a key no admitted enclave attested
    "signature_invalid",  # names the attested key but the signature does not verify
    "keyset_mismatch",  # names another keyset than the attested one
    "request_mismatch",  # request_sha256 is not the hash of the bytes the gateway sent
    "response_mismatch",  # response_sha256 is not the hash of the bytes the gateway relayed
]
VERDICTS: tuple[Verdict, ...] = (
    "verified", "malformed", "unknown_signer", "signature_invalid", "keyset_mismatch",
    "request_mismatch", "response_mismatch",
)  # fmt: skip
Source = Literal["response", "log"]  # delivered with a response, or fetched from the log


@dataclass(frozen=True, slots=True)
class StoredReceipt:
    """One receipt as stored: its exact wire bytes plus what the gateway knows about it.

    ``id`` is the receipt id (hex body hash); for a malformed receipt it is the sha256 of
    the raw bytes, and the body fields are ``None``. ``time_ms`` is the enclave's signed
    time (the receive time for a malformed receipt). ``tenant``, ``key_id`` and
    ``request_id`` are known only for receipts delivered with a response.
    """

    id: str
    raw: bytes
    verdict: Verdict
    received_ms: int
    time_ms: int
    source: Source = "response"
    problem: str | None = None
    signer: str | None = None
    seq: int | None = None
    keyset: str | None = None
    model: str | None = None
    status: str | None = None
    stream: bool | None = None
    total_tokens: int | None = None
    enclave: str | None = None
    tenant: str | None = None
    key_id: str | None = None
    request_id: str | None = None

    @property
    def verified(self) -> bool:
        return self.verdict == "verified"


@dataclass(frozen=True, slots=True)
class ReceiptQuery:
    """Filters for :meth:`ReceiptStore.query_receipts`; results are in (time, id) order.

    ``after`` is the cursor of the last row of the previous page (:func:`cursor_of`).
    """

    tenant: str | None = None
    model: str | None = None
    signer: str | None = None
    verdict: Verdict | None = None
    since_ms: int | None = None  # inclusive
    until_ms: int | None = None  # exclusive
    after: tuple[int, str] | None = None
    limit: int = 100


def cursor_of(receipt: StoredReceipt) -> str:
    return f"{receipt.time_ms}:{receipt.id}"


def parse_cursor(text: str) -> tuple[int, str]:
    """Raise ValueError unless ``text`` is ``<time_ms>:<id>``."""
    time_ms, sep, rid = text.partition(":")
    if not sep or not time_ms.isdigit() or len(rid) != 64:
        raise ValueError("a cursor is <time_ms>:<receipt id>")
    return int(time_ms), rid


@dataclass(frozen=True, slots=True)
class StoredCheckpoint:
    checkpoint: SignedCheckpoint
    enclave: str
    received_ms: int

    @property
    def signer(self) -> str:
        return self.checkpoint.checkpoint.signer


AnchorState = Literal[
    "submitted",  # a transaction was signed (its hash recorded before it was sent)
    "confirmed",  # mined: the anchor holds the checkpoint (block, index)
    "waiting",  # refused for now (signer not registered yet, an earlier range missing)
    "rejected",  # refused for good (revoked signer, forged or conflicting checkpoint)
]
#: States a record can hold; a checkpoint without a record is ``pending``.
ANCHOR_STATES: tuple[AnchorState, ...] = ("submitted", "confirmed", "waiting", "rejected")


@dataclass(frozen=True, slots=True)
class AnchorRecord:
    """Where one checkpoint stands at one anchor contract (``docs/transparency.md``)."""

    contract: str
    signer: str
    first_seq: int
    last_seq: int
    checkpoint_hash: str
    state: AnchorState
    updated_ms: int
    tx_hash: str | None = None
    nonce: int | None = None
    block_number: int | None = None
    index: int | None = None
    gas_used: int | None = None
    chain_id: int | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class AnchorSummary:
    """One signer's checkpoints at one contract, counted by state (``pending``: no record)."""

    signer: str
    counts: Mapping[str, int]
    checkpointed_to_seq: int
    confirmed_to_seq: int


@dataclass(frozen=True, slots=True)
class AttestationRecord:
    """The attestation document whose verification first admitted a signing key.

    ``document`` is the enclave's ``GET /v1/attestation`` answer exactly as received; it is
    what ``veritee anchor register`` registers (its evidence's hash) and what audit bundles
    ship, so a compliance team can verify the key's binding offline.
    """

    signer: str
    enclave: str
    document: bytes
    platform: str
    keyset_sha256: str
    verified_at_ms: int
    measurements: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ApiKeyRecord:
    """One tenant API key. Only the key's sha256 is stored (see ``docs/gateway.md``).

    ``models`` holds exact model names and ``*`` patterns; ``("*",)`` allows every model.
    ``rpm``/``tpm``: requests and tokens per rate-limit window; ``None`` is unlimited.
    ``admin`` keys may read every tenant's receipts.
    """

    key_id: str
    tenant: str
    key_sha256: str
    created_ms: int
    models: tuple[str, ...] = ("*",)
    rpm: int | None = None
    tpm: int | None = None
    admin: bool = False
    revoked_ms: int | None = None

    @property
    def active(self) -> bool:
        return self.revoked_ms is None


class ReceiptStore(Protocol):
    async def put_receipts(self, receipts: Sequence[StoredReceipt]) -> None:
        """Store durably. A receipt already stored keeps its bytes; what was unknown
        (tenant, request id) is filled in, and a worse verdict replaces ``verified``."""
        ...

    async def get_receipt(self, receipt_id: str) -> StoredReceipt | None: ...

    async def query_receipts(self, query: ReceiptQuery) -> list[StoredReceipt]: ...

    async def last_seq(self, signer: str) -> int:
        """The highest seq stored for ``signer`` (0 when none)."""
        ...

    async def existing(self, ids: Sequence[str]) -> set[str]:
        """Which of ``ids`` are stored already."""
        ...

    async def count_seqs(self, signer: str, after_seq: int, up_to: int) -> int:
        """How many distinct seqs in ``(after_seq, up_to]`` are stored for ``signer``."""
        ...

    async def sync_cursor(self, signer: str) -> int:
        """Up to which seq ``signer``'s enclave log has been copied into the store (0: none)."""
        ...

    async def set_sync_cursor(self, signer: str, seq: int) -> None:
        """Advance the cursor (never moves it back)."""
        ...

    async def receipts_by_seq(
        self, signer: str, first_seq: int, last_seq: int
    ) -> list[StoredReceipt]:
        """``signer``'s receipts with ``first_seq <= seq <= last_seq``, in (seq, id) order."""
        ...


class CheckpointStore(Protocol):
    """Checkpoints per signer, for the anchoring work: a clean seam, nothing else."""

    async def put_checkpoints(self, enclave: str, checkpoints: Sequence[SignedCheckpoint]) -> None:
        """Store durably; a checkpoint already stored (same signer and first_seq) is kept."""
        ...

    async def checkpoints(
        self, signer: str, *, after_seq: int = 0, limit: int = 1000
    ) -> list[StoredCheckpoint]:
        """The signer's checkpoints with ``first_seq > after_seq``, in seq order."""
        ...

    async def latest_checkpoint(self, signer: str) -> StoredCheckpoint | None: ...

    async def checkpoint_covering(self, signer: str, seq: int) -> StoredCheckpoint | None:
        """The stored checkpoint of ``signer`` whose range holds ``seq``, if any."""
        ...

    async def checkpoint_signers(self) -> list[str]: ...


class AnchorStore(Protocol):
    """The publisher's state per checkpoint and contract, and the admitting evidence."""

    async def put_anchor_record(self, record: AnchorRecord) -> None:
        """Insert or replace (durably) the record of ``(contract, signer, first_seq)``.

        A ``confirmed`` record is final: only another ``confirmed`` one replaces it.
        """
        ...

    async def anchor_record(
        self, contract: str, signer: str, first_seq: int
    ) -> AnchorRecord | None: ...

    async def anchor_records(
        self, contract: str, signer: str, *, after_seq: int = 0, limit: int = 1000
    ) -> list[AnchorRecord]:
        """Records with ``first_seq > after_seq``, in seq order."""
        ...

    async def anchor_summary(self, contract: str) -> list[AnchorSummary]:
        """Per signer with checkpoints: how many are in each state, by signer."""
        ...

    async def put_attestation(self, record: AttestationRecord) -> None:
        """Store durably; the first record of a signer is kept."""
        ...

    async def attestation(self, signer: str) -> AttestationRecord | None: ...

    async def attestations(self) -> list[AttestationRecord]: ...


class TenantStore(Protocol):
    async def add_key(self, record: ApiKeyRecord) -> None: ...

    async def find_key(self, key_sha256: str) -> ApiKeyRecord | None: ...

    async def list_keys(self) -> list[ApiKeyRecord]: ...

    async def revoke_key(self, key_id: str, at_ms: int) -> bool:
        """Mark a key revoked; False when no such active key exists."""
        ...


class Store(ReceiptStore, CheckpointStore, AnchorStore, TenantStore, Protocol):
    """One backend holding all four; ``open`` creates the schema if needed."""

    async def open(self) -> None: ...

    async def close(self) -> None: ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(self, *exc_info: object) -> None: ...


class StoreLifecycle:
    """``async with store:`` opens a store (creating its schema) and closes it whatever
    happens inside; the backends inherit it and define ``open`` and ``close``."""

    async def open(self) -> None:
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError

    async def __aenter__(self) -> Self:
        await self.open()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()
