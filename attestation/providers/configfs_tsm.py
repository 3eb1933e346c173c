"""configfs-tsm: the kernel's platform-neutral report interface (``/sys/kernel/config/tsm/report``).

One report::

    mkdir <root>/<entry>            the kernel creates the entry's attribute files
    write <entry>/inblob            up to 64 bytes of report data
    read  <entry>/generation        counts writes to the entry
    read  <entry>/outblob           the quote or report (may be zero-padded)
    read  <entry>/provider          e.g. "tdx_guest", "sev_guest"
    read  <entry>/generation        unchanged, or someone else wrote in between
    rmdir <entry>

The filesystem is a seam (:class:`TsmFilesystem`): :class:`OsTsmFilesystem` touches the
real one, :class:`FakeTsmFilesystem` emulates configfs in memory for tests and demos.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Protocol

from attestation.errors import PlatformUnavailable, ProviderError

DEFAULT_ROOT = "/sys/kernel/config/tsm/report"


class TsmFilesystem(Protocol):
    def is_dir(self, path: str) -> bool: ...
    def mkdir(self, path: str) -> None: ...
    def rmdir(self, path: str) -> None: ...
    def read(self, path: str) -> bytes: ...
    def write(self, path: str, data: bytes) -> None: ...


class OsTsmFilesystem:
    """The real configfs."""

    def is_dir(self, path: str) -> bool:
        return os.path.isdir(path)

    def mkdir(self, path: str) -> None:
        os.mkdir(path)

    def rmdir(self, path: str) -> None:
        os.rmdir(path)

    def read(self, path: str) -> bytes:
        with open(path, "rb") as handle:
            return handle.read()

    def write(self, path: str, data: bytes) -> None:
        with open(path, "wb") as handle:
            handle.write(data)


@dataclass(frozen=True)
class TsmReport:
    outblob: bytes
    provider: str
    generation: int


class ConfigfsTsm:
    """Generates reports through configfs-tsm, one private entry per request."""

    def __init__(self, fs: TsmFilesystem | None = None, root: str = DEFAULT_ROOT) -> None:
        self.fs: TsmFilesystem = fs if fs is not None else OsTsmFilesystem()
        self.root = root

    def available(self) -> bool:
        return self.fs.is_dir(self.root)

    def generate(self, inblob: bytes) -> TsmReport:
        if not self.available():
            raise PlatformUnavailable(f"configfs-tsm is not available at {self.root}")
        entry = str(PurePosixPath(self.root) / f"veritee-{uuid.uuid4().hex}")
        try:
            self.fs.mkdir(entry)
        except OSError as exc:
            raise ProviderError(f"cannot create a configfs-tsm entry: {exc}") from None
        try:
            return self._generate(entry, inblob)
        except OSError as exc:
            raise ProviderError(f"configfs-tsm report failed: {exc}") from None
        finally:
            with contextlib.suppress(OSError):  # a failed cleanup must not hide the result
                self.fs.rmdir(entry)

    def _generate(self, entry: str, inblob: bytes) -> TsmReport:
        self.fs.write(f"{entry}/inblob", inblob)
        before = _int(self.fs.read(f"{entry}/generation"))
        outblob = self.fs.read(f"{entry}/outblob")
        provider = self.fs.read(f"{entry}/provider").decode("ascii", "replace").strip()
        after = _int(self.fs.read(f"{entry}/generation"))
        if after != before:
            raise ProviderError(
                f"configfs-tsm entry changed while reading (generation {before} -> {after})"
            )
        if not outblob:
            raise ProviderError("configfs-tsm returned an empty outblob")
        return TsmReport(outblob, provider, after)


def _int(raw: bytes) -> int:
    try:
        return int(raw.strip())
    except ValueError:
        raise ProviderError(f"configfs-tsm generation is not a number: {raw!r}") from None


@dataclass
class _Entry:
    inblob: bytes = b""
    generation: int = 0


@dataclass
class FakeTsmFilesystem:
    """configfs-tsm in memory: ``outblob`` is ``produce(inblob)`` plus ``pad`` zero bytes.

    ``interfere`` simulates another writer: the generation moves on while outblob is read.
    """

    produce: Callable[[bytes], bytes]
    provider: str = "tdx_guest"
    root: str = DEFAULT_ROOT
    pad: int = 0
    interfere: bool = False
    entries: dict[str, _Entry] = field(default_factory=dict)
    created: int = 0

    def is_dir(self, path: str) -> bool:
        return path == self.root or path in self.entries

    def mkdir(self, path: str) -> None:
        if str(PurePosixPath(path).parent) != self.root or path in self.entries:
            raise FileExistsError(path)
        self.entries[path] = _Entry()
        self.created += 1

    def rmdir(self, path: str) -> None:
        if self.entries.pop(path, None) is None:
            raise FileNotFoundError(path)

    def write(self, path: str, data: bytes) -> None:
        entry, name = self._split(path)
        if name != "inblob":
            raise PermissionError(path)
        if len(data) > 64:
            raise OSError(22, "inblob is at most 64 bytes")
        entry.inblob = bytes(data)
        entry.generation += 1

    def read(self, path: str) -> bytes:
        entry, name = self._split(path)
        if name == "generation":
            return f"{entry.generation}\n".encode()
        if name == "provider":
            return f"{self.provider}\n".encode()
        if name == "outblob":
            if self.interfere:
                entry.generation += 1
            return self.produce(entry.inblob) + bytes(self.pad)
        raise FileNotFoundError(path)

    def _split(self, path: str) -> tuple[_Entry, str]:
        pure = PurePosixPath(path)
        entry = self.entries.get(str(pure.parent))
        if entry is None:
            raise FileNotFoundError(path)
        return entry, pure.name
