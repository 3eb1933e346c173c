"""The AWS Nitro Enclaves attestation document: a COSE_Sign1 (ES384) around a CBOR map.

The payload, as the Nitro Secure Module (NSM) writes it, keys in this order::

    { "module_id":   tstr,                  ; the issuing NSM, non-empty
      "digest":      "SHA384",              ; how the PCRs were computed
      "timestamp":   uint,                  ; ms since the Unix epoch, UTC
      "pcrs":        { 0..31 => bstr .size (32 / 48 / 64) },   ; 1 to 32 entries
      "certificate": bstr,                  ; DER leaf that signed this document
      "cabundle":    [+ bstr],              ; DER, root first, then intermediates
      "public_key":  bstr / null,           ; optional, as asked by the enclave
      "user_data":   bstr / null,           ; optional
      "nonce":       bstr / null }          ; optional

An optional field may also be absent. Sizes follow the NSM specification: certificates
1 to 1024 bytes, ``public_key`` 1 to 1024, ``user_data`` and ``nonce`` 0 to 1024.
Certificates are parsed (not verified) here, so a broken DER is reported as malformed
evidence naming the field (``certificate``, ``cabundle[2]``).

veritee puts its 64-byte REPORT_DATA in ``user_data`` and the nonce half of it again
in ``nonce`` (see ``docs/attestation.md``); this module does not interpret them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType

import cbor2
from cryptography import x509

from attestation.errors import MalformedEvidence
from attestation.formats.cose import CoseSign1, decode_cbor
from attestation.formats.pki import load_der_certificate

DIGESTS = ("SHA256", "SHA384", "SHA512")
PCR_SIZES = frozenset({32, 48, 64})
PCR_COUNT = 32
MAX_CERTIFICATE_SIZE = 1024
MAX_BYTES_FIELD_SIZE = 1024
MAX_MODULE_ID_LENGTH = 256
MAX_CABUNDLE = 16
REQUIRED_KEYS = ("module_id", "digest", "timestamp", "pcrs", "certificate", "cabundle")
OPTIONAL_KEYS = ("public_key", "user_data", "nonce")
DOCUMENT_KEYS = REQUIRED_KEYS + OPTIONAL_KEYS


def _certificate(der: object, name: str) -> x509.Certificate:
    if not isinstance(der, bytes) or not 1 <= len(der) <= MAX_CERTIFICATE_SIZE:
        raise MalformedEvidence(
            f"must be a DER certificate of 1 to {MAX_CERTIFICATE_SIZE} bytes", field=name
        )
    cert = load_der_certificate(der, name)
    if cert.serial_number <= 0:
        raise MalformedEvidence("the serial number must be positive (RFC 5280)", field=name)
    return cert


def _optional_bytes(value: object, name: str, minimum: int) -> None:
    if value is not None and (
        not isinstance(value, bytes) or not minimum <= len(value) <= MAX_BYTES_FIELD_SIZE
    ):
        raise MalformedEvidence(
            f"must be null or a byte string of {minimum} to {MAX_BYTES_FIELD_SIZE} bytes",
            field=name,
        )


def _check_pcrs(pcrs: object) -> Mapping[int, bytes]:
    if not isinstance(pcrs, Mapping) or not 1 <= len(pcrs) <= PCR_COUNT:
        raise MalformedEvidence(f"must be a map of 1 to {PCR_COUNT} PCRs", field="pcrs")
    for index, value in pcrs.items():
        if type(index) is not int or not 0 <= index < PCR_COUNT:
            raise MalformedEvidence(f"PCR index {index!r} is not 0..{PCR_COUNT - 1}", field="pcrs")
        if not isinstance(value, bytes) or len(value) not in PCR_SIZES:
            raise MalformedEvidence("must be 32, 48 or 64 bytes", field=f"pcrs[{index}]")
    return MappingProxyType(dict(sorted(pcrs.items())))


def _check_identity(module_id: object, digest: object, timestamp_ms: object) -> None:
    if not isinstance(module_id, str) or not 0 < len(module_id) <= MAX_MODULE_ID_LENGTH:
        raise MalformedEvidence("must be a non-empty text string", field="module_id")
    if not isinstance(digest, str) or digest not in DIGESTS:
        raise MalformedEvidence(f"must be one of {', '.join(DIGESTS)}", field="digest")
    if type(timestamp_ms) is not int or not 0 < timestamp_ms < 2**64:
        raise MalformedEvidence("must be a positive 64-bit integer", field="timestamp")


def _check_cabundle(cabundle: object) -> tuple[bytes, ...]:
    if not isinstance(cabundle, tuple | list) or not 0 < len(cabundle) <= MAX_CABUNDLE:
        raise MalformedEvidence(
            f"must be an array of 1 to {MAX_CABUNDLE} certificates", field="cabundle"
        )
    return tuple(cabundle)


@dataclass(frozen=True)
class NitroDocument:
    """The attestation document (the COSE payload), checked when constructed."""

    module_id: str
    digest: str
    timestamp_ms: int
    pcrs: Mapping[int, bytes]
    certificate: bytes
    cabundle: tuple[bytes, ...]
    public_key: bytes | None = None
    user_data: bytes | None = None
    nonce: bytes | None = None
    leaf: x509.Certificate = field(init=False, repr=False, compare=False)
    bundle: tuple[x509.Certificate, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        _check_identity(self.module_id, self.digest, self.timestamp_ms)
        _ = self.timestamp  # a date Python can represent, or MalformedEvidence now
        object.__setattr__(self, "pcrs", _check_pcrs(self.pcrs))
        object.__setattr__(self, "leaf", _certificate(self.certificate, "certificate"))
        object.__setattr__(self, "cabundle", _check_cabundle(self.cabundle))
        bundle = tuple(_certificate(c, f"cabundle[{i}]") for i, c in enumerate(self.cabundle))
        object.__setattr__(self, "bundle", bundle)
        _optional_bytes(self.public_key, "public_key", 1)
        _optional_bytes(self.user_data, "user_data", 0)
        _optional_bytes(self.nonce, "nonce", 0)

    @property
    def timestamp(self) -> datetime:
        """The document's creation time (UTC, millisecond precision)."""
        seconds, millis = divmod(self.timestamp_ms, 1000)
        try:
            return datetime.fromtimestamp(seconds, UTC).replace(microsecond=1000 * millis)
        except (OverflowError, ValueError, OSError):
            raise MalformedEvidence("is beyond any representable date", field="timestamp") from None

    def to_dict(self) -> dict[str, object]:
        """The CBOR map, keys in NSM's order, unset optional fields as null."""
        return {
            "module_id": self.module_id,
            "digest": self.digest,
            "timestamp": self.timestamp_ms,
            "pcrs": dict(self.pcrs),
            "certificate": self.certificate,
            "cabundle": list(self.cabundle),
            "public_key": self.public_key,
            "user_data": self.user_data,
            "nonce": self.nonce,
        }

    def to_cbor(self) -> bytes:
        return cbor2.dumps(self.to_dict())

    @classmethod
    def from_dict(cls, data: object) -> NitroDocument:
        if not isinstance(data, Mapping):
            raise MalformedEvidence("the attestation document must be a map", field="payload")
        for key in data:
            if not isinstance(key, str) or key not in DOCUMENT_KEYS:
                raise MalformedEvidence(f"unknown field {key!r}", field="payload")
        for key in REQUIRED_KEYS:
            if data.get(key) is None:
                raise MalformedEvidence("is required", field=key)
        return cls(
            module_id=data["module_id"],
            digest=data["digest"],
            timestamp_ms=data["timestamp"],
            pcrs=data["pcrs"],
            certificate=data["certificate"],
            cabundle=data["cabundle"],
            public_key=data.get("public_key"),
            user_data=data.get("user_data"),
            nonce=data.get("nonce"),
        )

    @classmethod
    def from_cbor(cls, payload: bytes) -> NitroDocument:
        return cls.from_dict(decode_cbor(payload, field="payload"))


@dataclass(frozen=True)
class NitroAttestation:
    """A signed attestation document: the envelope and its parsed payload."""

    cose: CoseSign1
    document: NitroDocument

    @classmethod
    def from_bytes(cls, raw: bytes) -> NitroAttestation:
        cose = CoseSign1.from_bytes(raw)
        return cls(cose=cose, document=NitroDocument.from_cbor(cose.payload))

    def to_bytes(self) -> bytes:
        return self.cose.to_bytes()


def parse_nitro(raw: bytes) -> NitroAttestation:
    """Parse a Nitro attestation document (COSE_Sign1 bytes); raise MalformedEvidence."""
    return NitroAttestation.from_bytes(raw)
