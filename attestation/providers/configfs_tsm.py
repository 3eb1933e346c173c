"""configfs-tsm: the kernel's platform-neutral attestation report interface.

A report is requested by creating a directory under ``/sys/kernel/config/tsm/report``,
writing ``inblob`` (the report data) and optionally ``privlevel``, then reading
``outblob`` (the report), ``auxblob`` (platform extras; SEV-SNP: the certificate table)
and ``provider`` (``sev_guest``, ``tdx_guest``...). Every write bumps ``generation``; if
it moved by more than our own writes, someone else wrote to the entry meanwhile and the
blobs may answer their request, not ours, so the request fails.

:class:`TsmReports` is the seam: :class:`LinuxTsmReports` uses a real directory tree,
:class:`FakeTsmReports` keeps the same tree in any directory and plays the kernel.
"""

from __future__ import annotations

import contextlib
import errno
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from attestation.errors import PlatformUnavailable, ProviderError

DEFAULT_ROOT = Path("/sys/kernel/config/tsm/report")


class TsmReports(Protocol):
    """The report directory: entries hold attributes that can be written and read."""

    def create(self, entry: str) -> None: ...

    def remove(self, entry: str) -> None: ...

    def write(self, entry: str, attribute: str, data: bytes) -> None: ...

    def read(self, entry: str, attribute: str) -> bytes: ...


class LinuxTsmReports:
    """Entries as directories under ``root`` (the kernel's by default)."""

    def __init__(self, root: Path = DEFAULT_ROOT) -> None:
        self.root = Path(root)

    def create(self, entry: str) -> None:
        try:
            (self.root / entry).mkdir()
        except FileNotFoundError:
            raise PlatformUnavailable(f"no configfs-tsm report directory at {self.root}") from None

    def remove(self, entry: str) -> None:
        (self.root / entry).rmdir()

    def write(self, entry: str, attribute: str, data: bytes) -> None:
        (self.root / entry / attribute).write_bytes(data)

    def read(self, entry: str, attribute: str) -> bytes:
        return (self.root / entry / attribute).read_bytes()


@dataclass(frozen=True)
class TsmReport:
    provider: str
    outblob: bytes
    auxblob: bytes


def request_report(
    reports: TsmReports, inblob: bytes, *, privlevel: int | None = None
) -> TsmReport:
    """Request one report through ``reports``; raise ProviderError on any failure or race."""
    entry = f"veritee-{uuid.uuid4().hex}"
    try:
        reports.create(entry)
    except OSError as exc:
        raise ProviderError(f"cannot create a configfs-tsm report entry: {exc}") from None
    try:
        return _request(reports, entry, inblob, privlevel)
    except OSError as exc:
        raise ProviderError(f"configfs-tsm request failed: {exc}") from None
    finally:
        with contextlib.suppress(OSError):  # a leftover entry holds no secret
            reports.remove(entry)


def _request(reports: TsmReports, entry: str, inblob: bytes, privlevel: int | None) -> TsmReport:
    expected = _generation(reports, entry)
    reports.write(entry, "inblob", inblob)
    expected += 1
    if privlevel is not None:
        reports.write(entry, "privlevel", str(privlevel).encode())
        expected += 1

    def read(attribute: str, *, optional: bool = False) -> bytes:
        try:
            data = reports.read(entry, attribute)
        except OSError as exc:
            # auxblob is absent or empty when the platform has nothing to add.
            if not optional or exc.errno not in (errno.ENOENT, errno.ENODATA, errno.EOPNOTSUPP):
                raise
            data = b""
        generation = _generation(reports, entry)
        if generation != expected:
            raise ProviderError(
                f"configfs-tsm entry changed while reading {attribute} (generation "
                f"{generation}, expected {expected}): another writer raced this request"
            )
        return data

    outblob = read("outblob")
    auxblob = read("auxblob", optional=True)
    provider = read("provider").decode(errors="replace").strip()
    return TsmReport(provider=provider, outblob=outblob, auxblob=auxblob)


def _generation(reports: TsmReports, entry: str) -> int:
    text = reports.read(entry, "generation").strip()
    if not text.isdigit():
        raise ProviderError(f"configfs-tsm generation is not a number: {text!r}")
    return int(text)


# (inblob, privlevel) -> (outblob, auxblob)
Backend = Callable[[bytes, int], tuple[bytes, bytes]]


class FakeTsmReports(LinuxTsmReports):
    """A configfs-tsm tree in an ordinary directory, with a ``backend`` in the kernel's place.

    Attributes are real files under ``root``. Writes bump ``generation`` like the kernel;
    reading ``outblob`` asks the backend for the report of the current ``inblob`` and
    ``privlevel``. ``on_read`` (test hook) runs before each read, e.g. to race a writer.
    """

    def __init__(
        self,
        root: Path,
        backend: Backend,
        *,
        provider: str,
        privlevel_floor: int = 0,
        on_read: Callable[[str, str], None] | None = None,
    ) -> None:
        super().__init__(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.backend = backend
        self.provider = provider
        self.privlevel_floor = privlevel_floor
        self.on_read = on_read

    def create(self, entry: str) -> None:
        super().create(entry)
        for attribute, value in (
            ("generation", b"0\n"),
            ("provider", f"{self.provider}\n".encode()),
            ("privlevel", b"0\n"),
            ("privlevel_floor", f"{self.privlevel_floor}\n".encode()),
            ("inblob", b""),
        ):
            super().write(entry, attribute, value)

    def remove(self, entry: str) -> None:
        shutil.rmtree(self.root / entry)

    def write(self, entry: str, attribute: str, data: bytes) -> None:
        if attribute not in ("inblob", "privlevel"):
            raise OSError(errno.EACCES, "read-only attribute", attribute)
        if attribute == "privlevel" and int(data) < self.privlevel_floor:
            raise OSError(errno.EINVAL, "privlevel below privlevel_floor", attribute)
        super().write(entry, attribute, data)
        generation = int(super().read(entry, "generation"))
        super().write(entry, "generation", f"{generation + 1}\n".encode())
        for stale in ("outblob", "auxblob"):
            (self.root / entry / stale).unlink(missing_ok=True)

    def read(self, entry: str, attribute: str) -> bytes:
        if self.on_read is not None:
            self.on_read(entry, attribute)
        if attribute in ("outblob", "auxblob") and not (self.root / entry / attribute).exists():
            inblob = super().read(entry, "inblob")
            privlevel = int(super().read(entry, "privlevel"))
            outblob, auxblob = self.backend(inblob, privlevel)
            super().write(entry, "outblob", outblob)
            if auxblob:
                super().write(entry, "auxblob", auxblob)
        return super().read(entry, attribute)
