"""The audit bundle's layout (``veritee.audit-bundle.v1``) and its manifest.

A bundle is an uncompressed POSIX tar whose members are regular files, in this order::

    manifest.json          what the bundle holds, and the sha256 and size of every other file
    policy.toml            the operator's policy the enclaves were admitted under
    enclaves/<addr>.json   per signing key: the attestation document that admitted it
    collateral.json        optional: a veritee.collateral.v1 bundle for offline evidence checks
    receipts.jsonl         canonical receipts, one per line, by signer then seq
    checkpoints.jsonl      the enclave-signed checkpoints covering them, by signer then seq
    proofs.jsonl           per receipt: its Merkle path in its checkpoint
    anchorings.jsonl       per anchored checkpoint: contract, transaction, block, index

The manifest's hashes catch a changed, missing or extra file; they prove nothing about who
wrote the bundle (the gateway that exports it is not trusted). Trust comes from what the
files carry: hardware evidence under the verifier's roots, enclave signatures, and the
chain. ``docs/transparency.md`` ("Audit bundles") documents every file.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from transcript.hexfields import is_hex64
from verifier.errors import BadInput

BUNDLE_TYPE = "veritee.audit-bundle.v1"
ENCLAVE_TYPE = "veritee.audit-enclave.v1"
MANIFEST = "manifest.json"
POLICY = "policy.toml"
COLLATERAL = "collateral.json"
RECEIPTS = "receipts.jsonl"
CHECKPOINTS = "checkpoints.jsonl"
PROOFS = "proofs.jsonl"
ANCHORINGS = "anchorings.jsonl"
ENCLAVE_FILE = re.compile(r"enclaves/0x[0-9a-fA-F]{40}\.json")
REQUIRED = (POLICY, RECEIPTS, CHECKPOINTS, PROOFS, ANCHORINGS)
_MANIFEST_KEYS = frozenset(
    ("type", "created_ms", "from_ms", "to_ms", "tenant", "anchor", "counts", "warnings", "files")
)


def allowed_name(name: str) -> bool:
    return name in (MANIFEST, COLLATERAL, *REQUIRED) or ENCLAVE_FILE.fullmatch(name) is not None


@dataclass(frozen=True)
class FileEntry:
    sha256: str
    size: int


@dataclass(frozen=True)
class Manifest:
    """The parsed manifest. ``tenant`` set means the receipts were filtered to one tenant, so
    seq gaps (other tenants' receipts) are expected and completeness cannot be checked."""

    created_ms: int
    from_ms: int | None
    to_ms: int | None
    tenant: str | None
    anchor: Mapping[str, Any] | None
    counts: Mapping[str, int]
    warnings: tuple[str, ...]
    files: Mapping[str, FileEntry]

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": BUNDLE_TYPE,
            "created_ms": self.created_ms,
            "from_ms": self.from_ms,
            "to_ms": self.to_ms,
            "tenant": self.tenant,
            "anchor": dict(self.anchor) if self.anchor is not None else None,
            "counts": dict(self.counts),
            "warnings": list(self.warnings),
            "files": {
                name: {"sha256": f.sha256, "bytes": f.size}
                for name, f in sorted(self.files.items())
            },
        }

    @classmethod
    def from_dict(cls, data: object) -> Manifest:
        if not isinstance(data, dict) or set(data) != _MANIFEST_KEYS:
            raise _bad(f"the manifest is an object with the keys {sorted(_MANIFEST_KEYS)}")
        if data["type"] != BUNDLE_TYPE:
            raise _bad(f"not a {BUNDLE_TYPE} bundle (type {data['type']!r})")
        for name in ("created_ms", "from_ms", "to_ms"):
            value = data[name]
            if not (value is None and name != "created_ms") and type(value) is not int:
                raise _bad(f"manifest {name} must be an integer")
        tenant, anchor, counts, warnings = (
            data["tenant"], data["anchor"], data["counts"], data["warnings"],
        )  # fmt: skip
        if tenant is not None and (not isinstance(tenant, str) or not tenant):
            raise _bad("manifest tenant must be a non-empty string or null")
        if anchor is not None and not isinstance(anchor, dict):
            raise _bad("manifest anchor must be an object or null")
        if not isinstance(counts, dict) or not all(type(v) is int for v in counts.values()):
            raise _bad("manifest counts must map names to integers")
        if not isinstance(warnings, list) or not all(isinstance(w, str) for w in warnings):
            raise _bad("manifest warnings must be a list of strings")
        return cls(
            created_ms=data["created_ms"],
            from_ms=data["from_ms"],
            to_ms=data["to_ms"],
            tenant=tenant,
            anchor=anchor,
            counts=counts,
            warnings=tuple(warnings),
            files=_files(data["files"]),
        )


def _files(value: object) -> dict[str, FileEntry]:
    if not isinstance(value, dict):
        raise _bad("manifest files must be an object")
    files: dict[str, FileEntry] = {}
    for name, entry in value.items():
        if not allowed_name(name) or name == MANIFEST:
            raise _bad(f"the manifest lists {name!r}, which is not a bundle file")
        if (
            not isinstance(entry, dict)
            or set(entry) != {"sha256", "bytes"}
            or not is_hex64(entry["sha256"])
            or type(entry["bytes"]) is not int
            or entry["bytes"] < 0
        ):
            raise _bad(f"manifest entry {name!r} must be {{sha256: <hex64>, bytes: <int>}}")
        files[name] = FileEntry(entry["sha256"], entry["bytes"])
    missing = [name for name in REQUIRED if name not in files]
    if missing:
        raise _bad(f"the manifest does not list {missing}")
    return files


def _bad(reason: str) -> BadInput:
    return BadInput("bundle.malformed", reason)
