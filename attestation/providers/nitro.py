"""Evidence from the AWS Nitro Secure Module, through ``/dev/nsm``.

The NSM driver (Linux ``drivers/misc/nsm.c``, uapi ``linux/nsm.h``) takes one ioctl,
``NSM_IOCTL_RAW = _IOWR(0x0A, 0, struct nsm_raw)``, with::

    struct nsm_iovec { __u64 addr; __u64 len; };
    struct nsm_raw   { struct nsm_iovec request; struct nsm_iovec response; };

``request`` points at the CBOR request (at most 0x1000 bytes); ``response`` at a buffer
of 0x3000 bytes, whose ``len`` the kernel overwrites with the length it wrote.

Two seams, each with a fake: :class:`NsmDevice` (CBOR request in, CBOR response out;
:class:`attestation.simulated.nsm.FakeNsm` answers with simulator-signed documents) and,
inside :class:`DevNsm`, the ``ioctl`` call itself (``FakeNsm.ioctl`` plays the kernel).
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import os
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from attestation.errors import MalformedEvidence, PlatformUnavailable, ProviderError
from attestation.evidence import Evidence, Platform, check_report_data
from attestation.formats.nitro import parse_nitro
from attestation.formats.nsm import (
    NSM_IOCTL_RAW,
    NSM_RAW,
    NSM_REQUEST_MAX_SIZE,
    NSM_RESPONSE_MAX_SIZE,
    AttestationRequest,
    ErrorResponse,
    decode_response,
)

NSM_DEVICE = Path("/dev/nsm")
Ioctl = Callable[[int, int, bytearray], object]


def _system_ioctl(fd: int, request: int, arg: bytearray) -> object:
    return fcntl.ioctl(fd, request, arg, True)


class NsmDevice(Protocol):
    """Something that answers a raw NSM request (CBOR bytes) with a raw response."""

    def call(self, request: bytes) -> bytes: ...


class DevNsm:
    """The real device: one ``NSM_IOCTL_RAW`` per call on ``path``."""

    def __init__(self, path: Path = NSM_DEVICE, *, ioctl: Ioctl = _system_ioctl) -> None:
        self.path = path
        self._ioctl = ioctl

    def call(self, request: bytes) -> bytes:
        if not 0 < len(request) <= NSM_REQUEST_MAX_SIZE:
            raise ProviderError(f"an NSM request is 1 to {NSM_REQUEST_MAX_SIZE} bytes")
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CLOEXEC)
        except FileNotFoundError:
            raise PlatformUnavailable(f"{self.path} not found: not in a Nitro enclave") from None
        except OSError as exc:
            raise ProviderError(f"cannot open {self.path}: {exc}") from None
        try:
            return self._exchange(fd, request)
        finally:
            os.close(fd)

    def _exchange(self, fd: int, request: bytes) -> bytes:
        request_buffer = ctypes.create_string_buffer(request, len(request))
        response_buffer = ctypes.create_string_buffer(NSM_RESPONSE_MAX_SIZE)
        raw = bytearray(
            NSM_RAW.pack(
                ctypes.addressof(request_buffer),
                len(request),
                ctypes.addressof(response_buffer),
                NSM_RESPONSE_MAX_SIZE,
            )
        )
        try:
            self._ioctl(fd, NSM_IOCTL_RAW, raw)
        except OSError as exc:
            if exc.errno == errno.EMSGSIZE:
                raise ProviderError("the NSM request is too large") from None
            raise ProviderError(f"NSM ioctl on {self.path} failed: {exc}") from None
        written = NSM_RAW.unpack(raw)[3]
        if not 0 < written <= NSM_RESPONSE_MAX_SIZE:
            raise ProviderError(f"the NSM reported a response of {written} bytes")
        return response_buffer.raw[:written]


class NitroNsmProvider:
    """``get_evidence``: an NSM attestation document binding the 64 bytes.

    The request carries the 64 bytes as ``user_data``, their second half (the nonce) as
    ``nonce``, and the configured ``public_key`` if any.
    """

    name = "nitro-nsm"
    platform: Platform = "nitro"

    def __init__(self, device: NsmDevice | None = None, *, public_key: bytes | None = None):
        self._device: NsmDevice = device if device is not None else DevNsm()
        self.public_key = public_key

    def get_evidence(self, report_data: bytes) -> Evidence:
        report_data = check_report_data(report_data)
        request = AttestationRequest.for_report_data(report_data, self.public_key)
        raw = self._device.call(request.to_cbor())
        try:
            response = decode_response(raw)
        except MalformedEvidence as exc:
            raise ProviderError(f"the NSM's answer is not a response: {exc}") from None
        if isinstance(response, ErrorResponse):
            raise ProviderError(f"the NSM refused the attestation request: {response.code}")
        try:
            document = parse_nitro(response.document).document
        except MalformedEvidence as exc:
            raise ProviderError(f"the NSM returned a malformed document: {exc}") from None
        asked = (request.user_data, request.nonce, request.public_key)
        if (document.user_data, document.nonce, document.public_key) != asked:
            raise ProviderError("the NSM's document does not carry the data that was asked for")
        return Evidence(
            platform="nitro",
            report=response.document,
            report_data=report_data,
            provider=self.name,
        )
