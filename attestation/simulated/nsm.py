"""A fake Nitro Secure Module that answers with documents signed by ``simulated-nitro``.

Use it as an :class:`~attestation.providers.nitro.NsmDevice` (``call``: CBOR request in,
CBOR response out), or as the ``ioctl`` of :class:`~attestation.providers.nitro.DevNsm`
to exercise the real marshalling: like the kernel driver, it reads ``struct nsm_raw``,
copies the request from the address it names, writes the response to the response
buffer (truncated to its capacity) and stores the written length back.
"""

from __future__ import annotations

import ctypes
import errno

from attestation.errors import MalformedEvidence
from attestation.formats.nsm import (
    NSM_IOCTL_RAW,
    NSM_RAW,
    NSM_REQUEST_MAX_SIZE,
    AttestationRequest,
    AttestationResponse,
    ErrorResponse,
)
from attestation.simulated.nitro import SimulatedNitro


class FakeNsm:
    """NSM semantics in-process; ``refuse`` makes every answer that error code."""

    def __init__(self, simulator: SimulatedNitro, *, refuse: str | None = None) -> None:
        self.simulator = simulator
        self.refuse = None if refuse is None else ErrorResponse(refuse)
        self.requests: list[AttestationRequest] = []

    def call(self, request: bytes) -> bytes:
        if self.refuse is not None:
            return self.refuse.to_cbor()
        if len(request) > NSM_REQUEST_MAX_SIZE:
            return ErrorResponse("InputTooLarge").to_cbor()
        try:
            parsed = AttestationRequest.from_cbor(request)
        except MalformedEvidence:
            return ErrorResponse("InvalidArgument").to_cbor()
        self.requests.append(parsed)
        return AttestationResponse(self.simulator.attest(parsed)).to_cbor()

    def ioctl(self, fd: int, request: int, arg: bytearray) -> int:
        """The kernel's ``NSM_IOCTL_RAW``, on this process's own memory."""
        if request != NSM_IOCTL_RAW or len(arg) != NSM_RAW.size:
            raise OSError(errno.EINVAL, "not NSM_IOCTL_RAW")
        request_addr, request_len, response_addr, response_cap = NSM_RAW.unpack(arg)
        if request_len > NSM_REQUEST_MAX_SIZE:
            raise OSError(errno.EMSGSIZE, "request too large")
        answer = self.call(ctypes.string_at(request_addr, request_len))
        written = min(response_cap, len(answer))
        ctypes.memmove(response_addr, answer, written)
        arg[:] = NSM_RAW.pack(request_addr, request_len, response_addr, written)
        return 0
