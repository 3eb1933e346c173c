"""Exporting an audit bundle from the gateway's store (``veritee audit export``).

The receipts are those whose enclave time is in ``[since, until)`` (and of one tenant, if
asked). With them go the checkpoints that span their seqs (a contiguous run per signer, so
the verifier can check how they link), each receipt's Merkle path, the anchoring records
of those checkpoints, the attestation document that admitted each signer, the operator's
policy, and optional collateral.

Without a tenant filter every checkpoint's range is exported **whole**, receipts outside
the time window included, so the verifier can rebuild each root and name any missing seq.
With one, only that tenant's receipts leave the store (other tenants' receipts are theirs
to see), and the verifier checks each by its Merkle path. The layout is
:mod:`verifier.audit.layout`; the whole bundle is built in memory.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

import orjson

from gateway.clock import WallMs, wall_ms
from gateway.store.base import (
    AnchorStore,
    CheckpointStore,
    ReceiptQuery,
    ReceiptStore,
    StoredReceipt,
)
from transcript.checkpoint import SignedCheckpoint
from transcript.merkle import MerkleTree
from verifier.audit.layout import (
    ANCHORINGS,
    CHECKPOINTS,
    COLLATERAL,
    ENCLAVE_TYPE,
    POLICY,
    PROOFS,
    RECEIPTS,
    Manifest,
)
from verifier.audit.tarball import file_entry

PAGE = 1000


class ExportStore(ReceiptStore, CheckpointStore, AnchorStore, Protocol):
    """What an export reads."""


@dataclass(frozen=True)
class ExportRequest:
    since_ms: int | None
    until_ms: int | None
    tenant: str | None
    policy: bytes  # the operator's policy file, as it is
    contract: str | None = None  # the anchor whose records to include
    collateral: bytes | None = None  # a veritee.collateral.v1 bundle


@dataclass
class _Signer:
    signer: str
    receipts: dict[str, StoredReceipt]
    checkpoints: list[SignedCheckpoint]


async def export_bundle(
    store: ExportStore, request: ExportRequest, *, clock_ms: WallMs = wall_ms
) -> tuple[Manifest, dict[str, bytes]]:
    """The bundle's manifest and files (write them with ``verifier.audit.write_bundle``)."""
    warnings: list[str] = []
    selected, malformed = await _select(store, request)
    if malformed:
        warnings.append(f"{malformed} malformed receipt(s) in the window are not exported")
    files: dict[str, bytes] = {POLICY: request.policy}
    if request.collateral is not None:
        files[COLLATERAL] = request.collateral
    checkpoints: list[bytes] = []
    proofs: list[bytes] = []
    anchorings: list[bytes] = []
    receipts: list[StoredReceipt] = []
    chain_id: int | None = None
    for signer in sorted(selected):
        part = _Signer(signer, selected[signer], await _spanning(store, signer, selected[signer]))
        for signed in part.checkpoints:
            checkpoints.append(orjson.dumps(signed.to_dict()))
            proofs += await _range(store, part, signed, request.tenant is None, warnings)
            record = None
            if request.contract is not None:
                cp = signed.checkpoint
                record = await store.anchor_record(request.contract, signer, cp.first_seq)
            if record is not None and record.state == "confirmed" and record.tx_hash:
                chain_id = record.chain_id
                anchorings.append(orjson.dumps(_anchoring_line(signed, record)))
        receipts += sorted(part.receipts.values(), key=lambda r: (r.seq or 0, r.id))
        attestation = await store.attestation(signer)
        if attestation is None:
            warnings.append(f"no attestation document is stored for {signer}")
            continue
        files[f"enclaves/{signer}.json"] = orjson.dumps(
            {
                "type": ENCLAVE_TYPE,
                "signer": signer,
                "enclave": attestation.enclave,
                "verified_at_ms": attestation.verified_at_ms,
                "document": orjson.loads(attestation.document),
            },
            option=orjson.OPT_INDENT_2,
        )
    files[RECEIPTS] = _jsonl(r.raw for r in receipts)
    files[CHECKPOINTS] = _jsonl(checkpoints)
    files[PROOFS] = _jsonl(proofs)
    files[ANCHORINGS] = _jsonl(anchorings)
    manifest = Manifest(
        created_ms=clock_ms(),
        from_ms=request.since_ms,
        to_ms=request.until_ms,
        tenant=request.tenant,
        anchor=None
        if request.contract is None
        else {"contract": request.contract, "chain_id": chain_id},
        counts={
            "receipts": len(receipts),
            "checkpoints": len(checkpoints),
            "proofs": len(proofs),
            "anchorings": len(anchorings),
            "enclaves": sum(1 for n in files if n.startswith("enclaves/")),
        },
        warnings=tuple(warnings),
        files={name: file_entry(data) for name, data in files.items()},
    )
    return manifest, files


async def _select(
    store: ExportStore, request: ExportRequest
) -> tuple[dict[str, dict[str, StoredReceipt]], int]:
    """The window's receipts by signer and id, and how many were malformed."""
    selected: dict[str, dict[str, StoredReceipt]] = {}
    malformed = 0
    after: tuple[int, str] | None = None
    while True:
        query = ReceiptQuery(
            tenant=request.tenant, since_ms=request.since_ms, until_ms=request.until_ms,
            after=after, limit=PAGE,
        )  # fmt: skip
        page = await store.query_receipts(query)
        for r in page:
            if r.verdict == "malformed" or r.signer is None or r.seq is None:
                malformed += 1
            else:
                selected.setdefault(r.signer, {})[r.id] = r
        if len(page) < PAGE:
            return selected, malformed
        after = (page[-1].time_ms, page[-1].id)


async def _spanning(
    store: ExportStore, signer: str, receipts: dict[str, StoredReceipt]
) -> list[SignedCheckpoint]:
    """The signer's checkpoints from the one covering its lowest seq to its highest."""
    seqs = [r.seq for r in receipts.values() if r.seq is not None]
    low, high = min(seqs), max(seqs)
    first = await store.checkpoint_covering(signer, low)
    after = first.checkpoint.checkpoint.first_seq - 1 if first else low - 1
    out: list[SignedCheckpoint] = []
    while True:
        page = await store.checkpoints(signer, after_seq=after, limit=PAGE)
        for stored in page:
            if stored.checkpoint.checkpoint.first_seq > high:
                return out
            out.append(stored.checkpoint)
        if len(page) < PAGE:
            return out
        after = page[-1].checkpoint.checkpoint.first_seq


async def _range(
    store: ExportStore, part: _Signer, signed: SignedCheckpoint, whole: bool, warnings: list[str]
) -> list[bytes]:
    """Merkle paths for the part's receipts in ``signed``'s range (adding the range's other
    receipts to the part when ``whole``)."""
    cp = signed.checkpoint
    rows = await store.receipts_by_seq(part.signer, cp.first_seq, cp.last_seq)
    if whole:
        part.receipts.update((r.id, r) for r in rows if r.verdict != "malformed")
    leaves: dict[int, set[str]] = {}
    for r in rows:
        if r.verdict == "verified" and r.seq is not None:
            leaves.setdefault(r.seq, set()).add(r.id)
    where = f"checkpoint seq {cp.first_seq}..{cp.last_seq} of {part.signer}"
    seqs = range(cp.first_seq, cp.last_seq + 1)
    missing = [s for s in seqs if s not in leaves]
    if missing or any(len(ids) > 1 for ids in leaves.values()):
        warnings.append(
            f"no Merkle paths for {where}: the store lacks or doubles receipt(s) seq "
            f"{', '.join(map(str, missing or sorted(s for s, i in leaves.items() if len(i) > 1)))}"
        )
        return []
    ids = [next(iter(leaves[s])) for s in seqs]
    tree = MerkleTree([bytes.fromhex(i) for i in ids])
    if tree.root != cp.root:
        warnings.append(f"no Merkle paths for {where}: the store's receipts do not match its root")
        return []
    lines = []
    for index, rid in enumerate(ids):
        if rid in part.receipts:
            lines.append(
                orjson.dumps(
                    {
                        "receipt_id": rid,
                        "seq": cp.first_seq + index,
                        "signer": part.signer,
                        "checkpoint": signed.hash.hex(),
                        "path": [node.hex() for node in tree.proof(index)],
                    }
                )
            )
    return lines


def _anchoring_line(signed: SignedCheckpoint, record: Any) -> dict[str, Any]:
    cp = signed.checkpoint
    return {
        "signer": cp.signer,
        "first_seq": cp.first_seq,
        "last_seq": cp.last_seq,
        "checkpoint": signed.hash.hex(),
        "contract": record.contract,
        "chain_id": record.chain_id,
        "tx_hash": record.tx_hash,
        "block_number": record.block_number,
        "index": record.index,
    }


def _jsonl(lines: Iterable[bytes]) -> bytes:
    body = b"\n".join(lines)
    return body + b"\n" if body else b""
