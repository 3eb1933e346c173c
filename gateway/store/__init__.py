"""Where receipts, checkpoints, anchoring state and tenant keys are kept: SQLite,
PostgreSQL, or memory."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from gateway.settings import StoreSettings
from gateway.store.base import (
    AnchorRecord,
    AnchorStore,
    AnchorSummary,
    ApiKeyRecord,
    AttestationRecord,
    CheckpointStore,
    ReceiptQuery,
    ReceiptStore,
    Store,
    StoredCheckpoint,
    StoredReceipt,
    TenantStore,
    Verdict,
)

__all__ = [
    "AnchorRecord",
    "AnchorStore",
    "AnchorSummary",
    "ApiKeyRecord",
    "AttestationRecord",
    "CheckpointStore",
    "ReceiptQuery",
    "ReceiptStore",
    "Store",
    "StoredCheckpoint",
    "StoredReceipt",
    "TenantStore",
    "Verdict",
    "open_store",
]


def open_store(
    settings: StoreSettings, *, on_commit: Callable[[int, float], None] | None = None
) -> Store:
    """The backend ``settings.url`` names, not yet open (``async with open_store(...) as s``)."""
    url = settings.url
    if url.startswith("sqlite:///"):
        from gateway.store.sqlite import SqliteStore

        return SqliteStore(
            Path(url.removeprefix("sqlite:///")),
            synchronous=settings.sqlite_synchronous,
            batch_max=settings.batch_max,
            on_commit=on_commit,
        )
    from gateway.store.postgres import PostgresStore

    return PostgresStore(url, batch_max=settings.batch_max, on_commit=on_commit)
