"""``/dev/tdx_guest``: the TDX guest driver's TDREPORT ioctl (``TDX_CMD_GET_REPORT0``).

The request is ``struct tdx_report_req { u8 reportdata[64]; u8 tdreport[1024]; }``, read
and written in place: ``_IOWR('T', 1, struct tdx_report_req)`` = 0xC4405401.

Opening, the ioctl and closing are injected, so tests run the real request handling
against :class:`FakeTdxGuest` on machines without the device.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from attestation.errors import PlatformUnavailable, ProviderError
from attestation.evidence import check_report_data
from attestation.formats.tdx import TDREPORT_SIZE

DEFAULT_DEVICE = "/dev/tdx_guest"
_IOC_READ_WRITE = 3
TDX_CMD_GET_REPORT0 = (_IOC_READ_WRITE << 30) | ((64 + TDREPORT_SIZE) << 16) | (ord("T") << 8) | 1

Ioctl = Callable[[int, int, bytearray], object]


def _ioctl(fd: int, request: int, buffer: bytearray) -> object:
    import fcntl

    return fcntl.ioctl(fd, request, buffer, True)


def _open(path: str) -> int:
    return os.open(path, os.O_RDWR | os.O_CLOEXEC)


class TdxGuestDevice:
    """Asks the TDX module, through the guest driver, for a TDREPORT binding 64 bytes."""

    def __init__(
        self,
        path: str = DEFAULT_DEVICE,
        *,
        opener: Callable[[str], int] = _open,
        ioctl: Ioctl = _ioctl,
        closer: Callable[[int], None] = os.close,
    ) -> None:
        self.path = path
        self.opener = opener
        self.ioctl = ioctl
        self.closer = closer

    def tdreport(self, report_data: bytes) -> bytes:
        buffer = bytearray(check_report_data(report_data) + bytes(TDREPORT_SIZE))
        try:
            fd = self.opener(self.path)
        except FileNotFoundError:
            raise PlatformUnavailable(f"no TDX guest device at {self.path}") from None
        except OSError as exc:
            raise ProviderError(f"cannot open {self.path}: {exc}") from None
        try:
            self.ioctl(fd, TDX_CMD_GET_REPORT0, buffer)
        except OSError as exc:
            raise ProviderError(f"TDX_CMD_GET_REPORT0 failed: {exc}") from None
        finally:
            self.closer(fd)
        return bytes(buffer[64:])


class FakeTdxGuest:
    """Stands in for the driver: opener, ioctl and closer that answer with ``produce``."""

    def __init__(self, produce: Callable[[bytes], bytes]) -> None:
        self.produce = produce
        self.open_fds: set[int] = set()
        self.requests: list[int] = []

    def opener(self, path: str) -> int:
        fd = 100 + len(self.requests) + len(self.open_fds)
        self.open_fds.add(fd)
        return fd

    def ioctl(self, fd: int, request: int, buffer: bytearray) -> object:
        if fd not in self.open_fds:
            raise OSError(9, "bad file descriptor")
        self.requests.append(request)
        if request != TDX_CMD_GET_REPORT0 or len(buffer) != 64 + TDREPORT_SIZE:
            raise OSError(25, "inappropriate ioctl for device")
        buffer[64:] = self.produce(bytes(buffer[:64]))
        return 0

    def closer(self, fd: int) -> None:
        self.open_fds.discard(fd)

    def device(self, path: str = DEFAULT_DEVICE) -> TdxGuestDevice:
        return TdxGuestDevice(path, opener=self.opener, ioctl=self.ioctl, closer=self.closer)
