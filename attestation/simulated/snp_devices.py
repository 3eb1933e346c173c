"""Fake SEV-SNP devices that answer with simulator-signed reports.

- :func:`fake_tsm_reports`: a configfs-tsm tree in any directory whose "kernel" is a
  :class:`SimulatedSnpProvider`; ``auxblob`` carries the GHCB certificate table.
- :class:`FakeSevGuestKernel`: an ioctl function for :class:`SevGuestDevice` that reads
  the request structures from memory and writes the answers back, as the driver does.

Both let the real providers run end to end with no device present.
"""

from __future__ import annotations

import ctypes
import errno
import struct
from pathlib import Path

from attestation.formats.snp_certtable import CertTable
from attestation.providers.configfs_tsm import Backend, FakeTsmReports
from attestation.providers.sev_guest import (
    EXT_REQ_SIZE,
    PAGE,
    REQ_SIZE,
    SNP_GET_EXT_REPORT,
    SNP_GET_REPORT,
    VMM_ERR_INVALID_LEN,
    pack_ext_report_req,
    pack_report_resp,
    unpack_ext_report_req,
    unpack_report_req,
    unpack_request_ioctl,
)
from attestation.simulated.snp import SimulatedSnpProvider


def cert_table(simulator: SimulatedSnpProvider) -> bytes:
    """The table a host would attach: the simulator's VCEK (or VLEK), ASK (or ASVK), ARK."""
    return CertTable.from_roles(simulator.chain_der()).to_bytes()


def snp_tsm_backend(simulator: SimulatedSnpProvider, *, certificates: bool = True) -> Backend:
    """(inblob, privlevel) -> (report, certificate table) from ``simulator``."""
    table = cert_table(simulator) if certificates else b""

    def answer(inblob: bytes, privlevel: int) -> tuple[bytes, bytes]:
        return simulator.report(inblob, vmpl=privlevel).to_bytes(), table

    return answer


def fake_tsm_reports(
    root: Path, simulator: SimulatedSnpProvider, *, certificates: bool = True
) -> FakeTsmReports:
    """A configfs-tsm report tree under ``root`` served by ``simulator``."""
    return FakeTsmReports(
        root, snp_tsm_backend(simulator, certificates=certificates), provider="sev_guest"
    )


class FakeSevGuestKernel:
    """Answers the ``/dev/sev-guest`` report ioctls with ``simulator``'s reports.

    ``certificates=False`` plays a host that attaches none; ``firmware_error`` a request
    the firmware refuses (the ioctl fails with EIO); ``response_status`` a response that
    carries an error status. ``requests`` records (ioctl, vmpl, certs_len) of each call.
    """

    def __init__(
        self,
        simulator: SimulatedSnpProvider,
        *,
        certificates: bool = True,
        firmware_error: int = 0,
        response_status: int = 0,
    ) -> None:
        self.simulator = simulator
        self.table = cert_table(simulator) if certificates else b""
        self.firmware_error = firmware_error
        self.response_status = response_status
        self.requests: list[tuple[int, int, int]] = []

    def __call__(self, fd: int, request: int, argument: bytearray) -> int:
        del fd  # any open file will do
        _, req_address, resp_address, _ = unpack_request_ioctl(argument)
        if request == SNP_GET_REPORT:
            user_data, vmpl = unpack_report_req(ctypes.string_at(req_address, REQ_SIZE))
            self.requests.append((request, vmpl, 0))
        elif request == SNP_GET_EXT_REPORT:
            raw = ctypes.string_at(req_address, EXT_REQ_SIZE)
            user_data, vmpl, certs_address, certs_len = unpack_ext_report_req(raw)
            self.requests.append((request, vmpl, certs_len))
            if len(self.table) > certs_len:
                needed = -(-len(self.table) // PAGE) * PAGE
                updated = pack_ext_report_req(user_data, vmpl, certs_address, needed)
                ctypes.memmove(req_address, updated, EXT_REQ_SIZE)
                struct.pack_into("<Q", argument, 24, VMM_ERR_INVALID_LEN << 32)
                raise OSError(errno.EIO, "certificate buffer too small")
            ctypes.memmove(certs_address, self.table, len(self.table))
        else:
            raise OSError(errno.ENOTTY, "unknown ioctl")
        if self.firmware_error:
            struct.pack_into("<Q", argument, 24, self.firmware_error)
            raise OSError(errno.EIO, "firmware error")
        report = self.simulator.report(user_data, vmpl=vmpl).to_bytes()
        response = pack_report_resp(report, self.response_status)
        ctypes.memmove(resp_address, response, len(response))
        return 0
