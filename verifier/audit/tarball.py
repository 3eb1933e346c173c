"""Writing and reading audit bundles as tar files, safely and deterministically.

Writing: members in a fixed order, every timestamp the bundle's creation time, owner 0,
mode 0644, so the same export gives the same bytes. Reading never touches the disk: each
member is read into memory, and only regular files with names from the layout are
accepted (no links, devices, absolute paths or ``..``), so a hostile bundle cannot write
anywhere or make the reader follow a link. gzip-compressed bundles are read too.
"""

from __future__ import annotations

import hashlib
import io
import tarfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import orjson

from verifier.audit.layout import MANIFEST, FileEntry, Manifest, allowed_name
from verifier.errors import BadInput


def file_entry(data: bytes) -> FileEntry:
    return FileEntry(hashlib.sha256(data).hexdigest(), len(data))


def write_bundle(out: Path | BinaryIO, manifest: Manifest, files: Mapping[str, bytes]) -> None:
    """Write ``manifest`` (first) and ``files`` (in the layout's order) as a tar."""
    mtime = manifest.created_ms // 1000
    manifest_bytes = orjson.dumps(manifest.to_dict(), option=orjson.OPT_INDENT_2)
    ordered = [(MANIFEST, manifest_bytes), *((n, files[n]) for n in _order(files))]
    target = out if not isinstance(out, Path) else out.open("wb")
    try:
        with tarfile.open(fileobj=target, mode="w", format=tarfile.PAX_FORMAT) as tar:
            for name, data in ordered:
                info = tarfile.TarInfo(name)
                info.size = len(data)
                info.mtime = mtime
                info.mode = 0o644
                info.uname = info.gname = ""
                tar.addfile(info, io.BytesIO(data))
    finally:
        if isinstance(out, Path):
            target.close()


def _order(files: Mapping[str, bytes]) -> list[str]:
    fixed = ["policy.toml", "collateral.json"]
    enclaves = sorted(n for n in files if n.startswith("enclaves/"))
    rest = ["receipts.jsonl", "checkpoints.jsonl", "proofs.jsonl", "anchorings.jsonl"]
    known = [n for n in (*fixed, *enclaves, *rest) if n in files]
    return known + sorted(set(files) - set(known))


@dataclass
class RawBundle:
    """A bundle's bytes: the manifest (parsed), its files, and names it should not have."""

    manifest: Manifest
    files: dict[str, bytes]
    unlisted: list[str] = field(default_factory=list)


def read_bundle(path: Path) -> RawBundle:
    """Read ``path`` into memory; :class:`BadInput` if it is not a well-formed bundle."""
    try:
        tar = tarfile.open(path, mode="r:*")  # noqa: SIM115 - closed by the `with` below
    except tarfile.TarError as exc:
        raise BadInput("bundle.malformed", f"{path} is not a tar archive: {exc}") from None
    files: dict[str, bytes] = {}
    unlisted: list[str] = []
    with tar:
        try:
            for member in tar:
                _read_member(tar, member, files, unlisted)
        except (tarfile.TarError, EOFError, OSError) as exc:
            raise BadInput("bundle.malformed", f"{path} is a damaged tar archive: {exc}") from None
    if MANIFEST not in files:
        raise BadInput("bundle.malformed", f"{path} has no {MANIFEST}")
    try:
        manifest = Manifest.from_dict(orjson.loads(files.pop(MANIFEST)))
    except orjson.JSONDecodeError as exc:
        raise BadInput("bundle.malformed", f"{MANIFEST} is not JSON: {exc}") from None
    return RawBundle(manifest, files, unlisted)


def _read_member(
    tar: tarfile.TarFile, member: tarfile.TarInfo, files: dict[str, bytes], unlisted: list[str]
) -> None:
    name = member.name
    if member.isdir() and name.rstrip("/") == "enclaves":
        return
    if name.startswith("/") or ".." in name.split("/") or not member.isreg():
        raise BadInput(
            "bundle.malformed", f"member {name!r} is not a plain file with a relative name"
        )
    if name in files or name in unlisted:
        raise BadInput("bundle.malformed", f"member {name!r} appears twice")
    if not allowed_name(name):
        unlisted.append(name)
        return
    handle = tar.extractfile(member)
    if handle is None:  # pragma: no cover - a regular file always has one
        raise BadInput("bundle.malformed", f"member {name!r} cannot be read")
    files[name] = handle.read()
