"""The bundle's checkpoints, Merkle paths and anchoring records: parsed, then checked.

A checkpoint counts only if the key that signed it is attested by an enclave document that
verified, it names that key's keyset, and the signer's checkpoints link up (contiguous
ranges, each ``prev`` the digest of the one before: ``check_checkpoint_chain``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from attestation.keyset import Keyset
from transcript.checkpoint import SignedCheckpoint, check_checkpoint_chain
from transcript.errors import MalformedCheckpoint, SignatureInvalid
from transcript.hexfields import is_hex64
from transcript.keys import parse_address
from verifier.audit.report import Failure
from verifier.errors import BadInput
from verifier.transparency.coverage import Range

_PATH = re.compile(r"(?:[0-9a-f]{64}){0,64}")


@dataclass(frozen=True)
class Anchored:
    """A bundle's claim that a checkpoint was anchored (checked against a chain with --rpc)."""

    signer: str
    first_seq: int
    checkpoint: bytes
    tx_hash: bytes
    block_number: int
    index: int


def _lines(name: str, raw: bytes) -> Iterable[tuple[int, Any]]:
    for number, line in enumerate(raw.split(b"\n"), 1):
        if not line.strip():
            continue
        try:
            yield number, orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            raise BadInput("bundle.malformed", f"{name} line {number}: not JSON ({exc})") from None


def read_checkpoints(raw: bytes) -> list[SignedCheckpoint]:
    out = []
    for number, data in _lines("checkpoints.jsonl", raw):
        try:
            out.append(SignedCheckpoint.from_dict(data))
        except (MalformedCheckpoint, TypeError) as exc:
            raise BadInput("bundle.malformed", f"checkpoints.jsonl line {number}: {exc}") from None
    return out


_PROOF_KEYS = frozenset(("receipt_id", "seq", "signer", "checkpoint", "path"))


def read_proofs(raw: bytes) -> dict[str, tuple[bytes, ...]]:
    """Merkle paths by receipt id (one regular expression per line checks a whole path)."""
    out: dict[str, tuple[bytes, ...]] = {}
    for number, data in _lines("proofs.jsonl", raw):
        path = data.get("path") if isinstance(data, dict) else None
        if (
            not isinstance(data, dict)
            or data.keys() != _PROOF_KEYS
            or not is_hex64(data["receipt_id"])
            or not is_hex64(data["checkpoint"])
            or not isinstance(path, list)
            or not all(type(node) is str for node in path)
            or _PATH.fullmatch(joined := "".join(path)) is None
            or len(joined) != 64 * len(path)
        ):
            raise BadInput("bundle.malformed", f"proofs.jsonl line {number}: not a Merkle path")
        flat = bytes.fromhex(joined)
        out[data["receipt_id"]] = tuple(flat[i : i + 32] for i in range(0, len(flat), 32))
    return out


def read_anchorings(raw: bytes) -> dict[tuple[str, int], Anchored]:
    """Anchoring claims by (signer, first_seq)."""
    out: dict[tuple[str, int], Anchored] = {}
    for number, data in _lines("anchorings.jsonl", raw):
        try:
            claim = Anchored(
                signer=parse_address(data["signer"]),
                first_seq=_uint(data["first_seq"]),
                checkpoint=_hex32(data["checkpoint"]),
                tx_hash=_hex32(data["tx_hash"]),
                block_number=_uint(data["block_number"]),
                index=_uint(data["index"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise BadInput("bundle.malformed", f"anchorings.jsonl line {number}: {exc}") from None
        out[(claim.signer, claim.first_seq)] = claim
    return out


def _uint(value: object) -> int:
    if type(value) is not int or value < 0:
        raise ValueError("expected a non-negative integer")
    return value


def _hex32(value: object) -> bytes:
    if not is_hex64(value):
        raise ValueError("expected 64 lowercase hex digits")
    return bytes.fromhex(str(value))


def checkpoint_range(signed: SignedCheckpoint) -> Range:
    """A checkpoint as a range for :func:`verifier.transparency.check_coverage`."""
    cp = signed.checkpoint
    label = f"checkpoint seq {cp.first_seq}..{cp.last_seq} (0x{signed.hash.hex()[:16]}…)"
    return Range(cp.first_seq, cp.last_seq, cp.root, label)


def check_checkpoints(
    checkpoints: Iterable[SignedCheckpoint], keysets: Mapping[str, Keyset]
) -> tuple[dict[str, list[SignedCheckpoint]], list[Failure]]:
    """The valid checkpoints by signer (sorted), and a failure for every invalid one."""
    failures: list[Failure] = []
    by_signer: dict[str, dict[int, SignedCheckpoint]] = {}
    keyset_hashes = {signer: k.hash() for signer, k in keysets.items()}
    for signed in checkpoints:
        cp = signed.checkpoint
        subject = f"checkpoint seq {cp.first_seq}..{cp.last_seq} of {cp.signer}"
        try:
            signed.verify()
        except SignatureInvalid as exc:
            failures.append(Failure("checkpoint.signature", subject, str(exc)))
            continue
        if cp.signer not in keyset_hashes:
            failures.append(
                Failure("checkpoint.signer", subject, "no verified evidence attests its signer")
            )
            continue
        if cp.keyset != keyset_hashes[cp.signer]:
            failures.append(
                Failure("checkpoint.keyset", subject, "it names another keyset than the attested")
            )
            continue
        seen = by_signer.setdefault(cp.signer, {})
        other = seen.get(cp.first_seq)
        if other is not None and other.hash != signed.hash:
            failures.append(
                Failure("checkpoint.fork", subject, "two different checkpoints start at this seq")
            )
            continue
        seen[cp.first_seq] = signed
    valid: dict[str, list[SignedCheckpoint]] = {}
    for signer, by_first in by_signer.items():
        ordered = [by_first[first] for first in sorted(by_first)]
        for gap in check_checkpoint_chain(ordered):
            failures.append(Failure("checkpoint.chain", f"checkpoints of {signer}", str(gap)))
        valid[signer] = ordered
    return valid, failures
