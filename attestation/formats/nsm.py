"""Messages to and from the Nitro Secure Module (``/dev/nsm``): CBOR, as the NSM API writes.

The NSM API encodes its Rust enums the serde way (externally tagged)::

    request:  {"Attestation": {"user_data": bstr / null,
                               "nonce": bstr / null,
                               "public_key": bstr / null}}
    response: {"Attestation": {"document": bstr}}   ; a COSE_Sign1, see formats.nitro
            / {"Error": "InvalidArgument"}          ; one of ERROR_CODES

A request is at most ``NSM_REQUEST_MAX_SIZE`` bytes and a response at most
``NSM_RESPONSE_MAX_SIZE`` (the kernel driver's buffers). They travel through the
``NSM_IOCTL_RAW`` ioctl, whose argument ``NSM_RAW`` is laid out here too (see
:mod:`attestation.providers.nitro`).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import cbor2

from attestation.errors import MalformedEvidence
from attestation.evidence import check_report_data
from attestation.formats.cose import decode_cbor
from attestation.formats.nitro import MAX_BYTES_FIELD_SIZE
from attestation.keyset import NONCE_SIZE

NSM_REQUEST_MAX_SIZE = 0x1000
NSM_RESPONSE_MAX_SIZE = 0x3000
NSM_MAGIC = 0x0A
# struct nsm_raw { struct nsm_iovec { __u64 addr; __u64 len; } request, response; }
NSM_RAW = struct.Struct("=4Q")
_IOC_READ_WRITE = 3


def _iowr(magic: int, number: int, size: int) -> int:
    """Linux ``_IOWR``: direction (2 bits), size (14), type (8), number (8)."""
    return (_IOC_READ_WRITE << 30) | (size << 16) | (magic << 8) | number


# The one ioctl of /dev/nsm: _IOWR(0x0A, 0, struct nsm_raw) = 0xC0200A00.
NSM_IOCTL_RAW = _iowr(NSM_MAGIC, 0, NSM_RAW.size)
ATTESTATION = "Attestation"
ERROR = "Error"
ERROR_CODES = (
    "Success",
    "InvalidArgument",
    "InvalidIndex",
    "InvalidResponse",
    "ReadOnlyIndex",
    "InvalidOperation",
    "BufferTooSmall",
    "InputTooLarge",
    "InternalError",
)
_REQUEST_FIELDS = ("user_data", "nonce", "public_key")


@dataclass(frozen=True)
class AttestationRequest:
    """Ask the NSM for a signed document carrying these (optional) fields."""

    user_data: bytes | None = None
    nonce: bytes | None = None
    public_key: bytes | None = None

    def __post_init__(self) -> None:
        for name in _REQUEST_FIELDS:
            value = getattr(self, name)
            if value is not None and (
                not isinstance(value, bytes) or len(value) > MAX_BYTES_FIELD_SIZE
            ):
                raise MalformedEvidence(
                    f"must be null or at most {MAX_BYTES_FIELD_SIZE} bytes",
                    field=f"request.{name}",
                )
        if self.public_key == b"":
            raise MalformedEvidence("must be null or non-empty", field="request.public_key")

    @classmethod
    def for_report_data(
        cls, report_data: bytes, public_key: bytes | None = None
    ) -> AttestationRequest:
        """veritee's request: the 64 bytes as ``user_data``, their nonce half as ``nonce``."""
        report_data = check_report_data(report_data)
        return cls(user_data=report_data, nonce=report_data[-NONCE_SIZE:], public_key=public_key)

    def to_cbor(self) -> bytes:
        body = {name: getattr(self, name) for name in _REQUEST_FIELDS}
        return cbor2.dumps({ATTESTATION: body})

    @classmethod
    def from_cbor(cls, raw: bytes) -> AttestationRequest:
        message = decode_cbor(raw, field="request")
        if not isinstance(message, dict) or list(message) != [ATTESTATION]:
            raise MalformedEvidence("not an Attestation request", field="request")
        body = message[ATTESTATION]
        if not isinstance(body, dict) or not set(body) <= set(_REQUEST_FIELDS):
            raise MalformedEvidence(
                f"the fields are {', '.join(_REQUEST_FIELDS)}", field="request.Attestation"
            )
        return cls(**{name: body.get(name) for name in _REQUEST_FIELDS})


@dataclass(frozen=True)
class ErrorResponse:
    """The NSM refused: ``code`` is one of ERROR_CODES."""

    code: str

    def __post_init__(self) -> None:
        if self.code not in ERROR_CODES:
            raise MalformedEvidence(f"unknown NSM error code {self.code!r}", field="response.Error")

    def to_cbor(self) -> bytes:
        return cbor2.dumps({ERROR: self.code})


@dataclass(frozen=True)
class AttestationResponse:
    """The NSM answered with a signed attestation document."""

    document: bytes

    def __post_init__(self) -> None:
        if not isinstance(self.document, bytes) or not self.document:
            raise MalformedEvidence("must be non-empty bytes", field="response.document")

    def to_cbor(self) -> bytes:
        return cbor2.dumps({ATTESTATION: {"document": self.document}})


def decode_response(raw: bytes) -> AttestationResponse | ErrorResponse:
    """Decode the NSM's answer to an Attestation request; raise MalformedEvidence."""
    message = decode_cbor(raw, field="response")
    if not isinstance(message, dict) or len(message) != 1:
        raise MalformedEvidence("must be a map with one entry", field="response")
    ((kind, body),) = message.items()
    if kind == ERROR:
        if not isinstance(body, str):
            raise MalformedEvidence("must be an error code", field="response.Error")
        return ErrorResponse(body)
    if kind != ATTESTATION:
        raise MalformedEvidence(f"unexpected response {kind!r}", field="response")
    if not isinstance(body, dict) or list(body) != ["document"]:
        raise MalformedEvidence("must be {document: bstr}", field="response.Attestation")
    return AttestationResponse(body["document"])
