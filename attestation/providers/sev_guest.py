"""``/dev/sev-guest``: the SEV-SNP guest driver's report ioctls.

Structures (``linux/sev-guest.h``), all little-endian::

    snp_report_req          user_data[64] | vmpl u32 | reserved[28]                 96 bytes
    snp_ext_report_req      snp_report_req | certs_address u64 | certs_len u32 | pad  112 bytes
    snp_report_resp         data[4000]: status u32 | report_size u32 | reserved[24] | report
    snp_guest_request_ioctl msg_version u8 | pad[7] | req_data u64 | resp_data u64 |
                            exitinfo2 u64 (firmware error low 32 bits, VMM error high)

    SNP_GET_REPORT     = _IOWR('S', 0, snp_guest_request_ioctl)   0xC0205300
    SNP_GET_EXT_REPORT = _IOWR('S', 2, snp_guest_request_ioctl)   0xC0205302

``req_data``/``resp_data``/``certs_address`` are pointers: the buffers live in ctypes
memory here, and the ioctl function is injectable, so a fake kernel (see
:mod:`attestation.simulated.snp_devices`) can answer without a device.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import os
import struct
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from attestation.errors import PlatformUnavailable, ProviderError

DEFAULT_DEVICE = Path("/dev/sev-guest")
IOCTL_SIZE = 32
REQ_SIZE = 96
EXT_REQ_SIZE = 112
RESP_SIZE = 4000
RESP_HEADER = 32
PAGE = 4096
MAX_CERTS = 0x4000  # the driver refuses larger certificate buffers
VMM_ERR_INVALID_LEN = 1


def _iowr(number: int, size: int) -> int:
    return (3 << 30) | (size << 16) | (ord("S") << 8) | number


SNP_GET_REPORT = _iowr(0, IOCTL_SIZE)
SNP_GET_EXT_REPORT = _iowr(2, IOCTL_SIZE)

# (fd, request, argument buffer) -> result; must update the buffer in place like
# ``fcntl.ioctl(fd, request, buffer, True)``.
IoctlFn = Callable[[int, int, bytearray], int]


def system_ioctl(fd: int, request: int, argument: bytearray) -> int:
    """The real ioctl: the kernel updates ``argument`` in place."""
    result: int = fcntl.ioctl(fd, request, argument, True)
    return result


def pack_request_ioctl(req_data: int, resp_data: int, msg_version: int = 1) -> bytearray:
    return bytearray(struct.pack("<B7xQQQ", msg_version, req_data, resp_data, 0))


def unpack_request_ioctl(argument: bytes | bytearray) -> tuple[int, int, int, int]:
    """(msg_version, req_data, resp_data, exitinfo2) of a ``snp_guest_request_ioctl``."""
    version, req, resp, exitinfo2 = struct.unpack("<B7xQQQ", bytes(argument[:IOCTL_SIZE]))
    return version, req, resp, exitinfo2


def pack_report_req(user_data: bytes, vmpl: int) -> bytes:
    return user_data + struct.pack("<I", vmpl) + bytes(28)


def unpack_report_req(data: bytes) -> tuple[bytes, int]:
    """(user_data, vmpl) of an ``snp_report_req``."""
    return data[:64], struct.unpack_from("<I", data, 64)[0]


def pack_ext_report_req(user_data: bytes, vmpl: int, certs_address: int, certs_len: int) -> bytes:
    return pack_report_req(user_data, vmpl) + struct.pack("<QI4x", certs_address, certs_len)


def unpack_ext_report_req(data: bytes) -> tuple[bytes, int, int, int]:
    """(user_data, vmpl, certs_address, certs_len) of an ``snp_ext_report_req``."""
    address, length = struct.unpack_from("<QI", data, REQ_SIZE)
    return (*unpack_report_req(data), address, length)


def pack_report_resp(report: bytes, status: int = 0) -> bytes:
    return struct.pack("<II24x", status, len(report)) + report


@dataclass(frozen=True)
class ExtendedReport:
    report: bytes
    certs: bytes


class SevGuestDevice:
    """The report ioctls of ``/dev/sev-guest`` (or ``path``), through ``ioctl``."""

    def __init__(self, path: Path = DEFAULT_DEVICE, *, ioctl: IoctlFn = system_ioctl) -> None:
        self.path = Path(path)
        self.ioctl = ioctl

    def get_report(self, user_data: bytes, vmpl: int = 0) -> bytes:
        req = ctypes.create_string_buffer(pack_report_req(user_data, vmpl), REQ_SIZE)
        resp = ctypes.create_string_buffer(RESP_SIZE)
        self._call(SNP_GET_REPORT, req, resp)
        return _report_of(resp.raw)

    def get_ext_report(
        self, user_data: bytes, vmpl: int = 0, *, certs_len: int = MAX_CERTS
    ) -> ExtendedReport:
        """The report and the certificate table; grows the buffer once if the host asks."""
        for _ in range(2):
            certs = ctypes.create_string_buffer(certs_len)
            req = ctypes.create_string_buffer(
                pack_ext_report_req(user_data, vmpl, ctypes.addressof(certs), certs_len),
                EXT_REQ_SIZE,
            )
            resp = ctypes.create_string_buffer(RESP_SIZE)
            try:
                self._call(SNP_GET_EXT_REPORT, req, resp)
            except _TooSmall:
                needed = unpack_ext_report_req(req.raw)[3]
                if not certs_len < needed <= MAX_CERTS:
                    raise ProviderError(
                        f"the host's certificates need {needed} bytes, more than {MAX_CERTS}"
                    ) from None
                certs_len = needed
                continue
            return ExtendedReport(report=_report_of(resp.raw), certs=certs.raw)
        raise ProviderError("the host kept asking for a larger certificate buffer")

    def _call(
        self, request: int, req: ctypes.Array[ctypes.c_char], resp: ctypes.Array[ctypes.c_char]
    ) -> None:
        try:
            fd = os.open(self.path, os.O_RDWR)
        except FileNotFoundError:
            raise PlatformUnavailable(f"no SEV-SNP guest device at {self.path}") from None
        except OSError as exc:
            raise ProviderError(f"cannot open {self.path}: {exc}") from None
        argument = pack_request_ioctl(ctypes.addressof(req), ctypes.addressof(resp))
        try:
            self.ioctl(fd, request, argument)
        except OSError as exc:
            exitinfo2 = unpack_request_ioctl(argument)[3]
            vmm_error, fw_error = exitinfo2 >> 32, exitinfo2 & 0xFFFFFFFF
            if exc.errno == errno.EIO and vmm_error == VMM_ERR_INVALID_LEN:
                raise _TooSmall from None
            raise ProviderError(
                f"{self.path} refused the report request: {exc.strerror or exc} "
                f"(firmware error 0x{fw_error:x}, host error 0x{vmm_error:x})"
            ) from None
        finally:
            os.close(fd)


class _TooSmall(Exception):
    """The host wants a larger certificate buffer (the new size is in the request)."""


def _report_of(response: bytes) -> bytes:
    status, size = struct.unpack_from("<II", response)
    if status:
        raise ProviderError(f"the SEV-SNP firmware answered status 0x{status:x}")
    if not 0 < size <= RESP_SIZE - RESP_HEADER:
        raise ProviderError(f"the device returned a report of {size} bytes")
    return response[RESP_HEADER : RESP_HEADER + size]
