"""AMD endorsement-key certificates (VCEK, VLEK): loading and their AMD extensions.

AMD's Key Distribution Service puts what the key endorses into X.509 extensions under
``1.3.6.1.4.1.3704.1``:

==========================  ==============================================  ===========
OID                         meaning                                         encoding
==========================  ==============================================  ===========
``.1``                      structure version                               INTEGER
``.2``                      product name (``Milan-B0``, ``Genoa``...)       IA5String
``.3.1`` .. ``.3.3``        bootloader, TEE, SNP security patch levels      INTEGER
``.3.4`` .. ``.3.7``        reserved SPLs (spl4..spl7)                      INTEGER
``.3.8``                    microcode SPL                                   INTEGER
``.3.9``                    FMC SPL (Turin)                                 INTEGER
``.4``                      hwID: the CHIP_ID (64 bytes; 8 on Turin)        raw octets
``.5``                      CSP id, on VLEKs instead of a hwID              IA5String
==========================  ==============================================  ===========

The hwID is the raw chip id with no DER tag; an OCTET STRING wrapping is accepted too.
This module parses and builds; checking signatures and chains is the verifier's job.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import NamedTuple, TypeVar

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from attestation.errors import MalformedEvidence
from attestation.formats.pki import load_der_certificate
from attestation.formats.snp_tcb import (
    PRODUCT_NAMES,
    Product,
    TcbVersion,
    layout,
    product_from_name,
)

T = TypeVar("T")

AMD_OID = "1.3.6.1.4.1.3704.1"
OID_STRUCT_VERSION = x509.ObjectIdentifier(f"{AMD_OID}.1")
OID_PRODUCT_NAME = x509.ObjectIdentifier(f"{AMD_OID}.2")
OID_HWID = x509.ObjectIdentifier(f"{AMD_OID}.4")
OID_CSP_ID = x509.ObjectIdentifier(f"{AMD_OID}.5")
# SPL name -> OID of its extension.
SPL_OIDS: dict[str, x509.ObjectIdentifier] = {
    name: x509.ObjectIdentifier(f"{AMD_OID}.3.{minor}")
    for name, minor in (
        ("bootloader", 1),
        ("tee", 2),
        ("snp", 3),
        ("spl4", 4),
        ("spl5", 5),
        ("spl6", 6),
        ("spl7", 7),
        ("microcode", 8),
        ("fmc", 9),
    )
}
_REQUIRED_SPLS = ("bootloader", "tee", "snp", "microcode")
HWID_SIZES: dict[Product, int] = {"milan": 64, "genoa": 64, "turin": 8}
_INTEGER, _OCTET_STRING, _IA5STRING, _EXPLICIT_VERSION = 0x02, 0x04, 0x16, 0xA0


def load_certificate(der: bytes, field: str) -> x509.Certificate:
    """Parse one DER certificate from evidence; raise MalformedEvidence naming ``field``.

    Every part a verifier reads is parsed here, at once (:mod:`attestation.formats.pki`),
    so that a malformed field cannot surface later as an unnamed error. AMD issues VCEKs
    with serial number 0, which RFC 5280 forbids; that is accepted.
    """
    cert = load_der_certificate(der, field)
    try:
        signature_algorithms(cert)
    except ValueError as exc:
        raise MalformedEvidence(
            f"not a well-formed X.509 certificate: {exc}", field=field
        ) from None
    return cert


def signature_algorithms(cert: x509.Certificate) -> tuple[bytes, bytes]:
    """The DER AlgorithmIdentifiers of the certificate's signature: (outer, inside TBS).

    RFC 5280 requires the two to be identical; only the inner one is signed.
    """
    der = cert.public_bytes(serialization.Encoding.DER)
    try:
        tbs, outer = _children(der, _read_tlv(der))[:2]
        fields = _children(der, tbs)
        inner = fields[2] if fields[0].tag == _EXPLICIT_VERSION else fields[1]
    except (IndexError, ValueError):
        raise ValueError("the certificate's structure is not tbs, algorithm, signature") from None
    return der[outer.start : outer.end], der[inner.start : inner.end]


# -- the little DER the AMD extensions and signature fields need -----------------------
# Single-byte tags, definite lengths up to four bytes; every failure is a ValueError that
# the callers turn into MalformedEvidence naming the field.


class _Tlv(NamedTuple):
    """One DER element: its tag and where its header, content and end are."""

    tag: int
    start: int
    content: int
    end: int


def _read_tlv(data: bytes, offset: int = 0) -> _Tlv:
    """The element at ``offset``; raise ValueError when it is cut short or malformed."""
    if offset + 2 > len(data):
        raise ValueError(f"DER element at {offset} is cut short")
    tag, length = data[offset], data[offset + 1]
    content = offset + 2
    if length & 0x80:
        count = length & 0x7F
        if not 1 <= count <= 4 or content + count > len(data):
            raise ValueError(f"DER length at {offset} is malformed")
        length = int.from_bytes(data[content : content + count], "big")
        content += count
    end = content + length
    if end > len(data):
        raise ValueError(f"DER element at {offset} runs past the end")
    return _Tlv(tag, offset, content, end)


def _single(data: bytes, tag: int, what: str) -> bytes:
    """The content of ``data`` when it is exactly one element with ``tag``."""
    tlv = _read_tlv(data)
    if tlv.tag != tag:
        raise ValueError(f"not a DER {what}")
    if tlv.end != len(data):
        raise ValueError(f"DER {what} length does not match its content")
    return data[tlv.content : tlv.end]


def _children(data: bytes, tlv: _Tlv) -> list[_Tlv]:
    """The elements inside a constructed element, in order."""
    out, offset = [], tlv.content
    while offset < tlv.end:
        child = _read_tlv(data[: tlv.end], offset)
        out.append(child)
        offset = child.end
    return out


def _der_byte(value: bytes) -> int:
    content = _single(value, _INTEGER, "INTEGER")
    if not 1 <= len(content) <= 2:
        raise ValueError("SPL must be an INTEGER from 0 to 255")
    number = int.from_bytes(content, "big", signed=True)
    if not 0 <= number <= 0xFF:
        raise ValueError(f"SPL must be an INTEGER from 0 to 255, got {number}")
    return number


def _der_ia5(value: bytes) -> str:
    content = _single(value, _IA5STRING, "IA5String")
    if any(b > 0x7F for b in content):
        raise ValueError("an IA5String holds ASCII only")
    return content.decode("ascii")


def encode_der_byte(value: int) -> bytes:
    """DER INTEGER of a value from 0 to 255."""
    if not 0 <= value <= 0xFF:
        raise ValueError("a byte value is 0..255")
    content = bytes((value,)) if value < 0x80 else bytes((0, value))
    return bytes((_INTEGER, len(content))) + content


def encode_der_ia5(text: str) -> bytes:
    content = text.encode("ascii")
    if len(content) > 0x7F:
        raise ValueError("text too long for a short-form IA5String")
    return bytes((_IA5STRING, len(content))) + content


class _Reader:
    """Reads the AMD extensions of one certificate, naming the field on every failure."""

    def __init__(self, cert: x509.Certificate, field: str) -> None:
        self.field = field
        try:
            self.values = {ext.oid: ext.value for ext in cert.extensions}
        except (ValueError, x509.DuplicateExtension) as exc:
            raise MalformedEvidence(f"unreadable extensions: {exc}", field=field) from None

    def raw(self, oid: x509.ObjectIdentifier) -> bytes | None:
        value = self.values.get(oid)
        if value is None:
            return None
        if not isinstance(value, x509.UnrecognizedExtension):
            raise MalformedEvidence(
                f"unexpected extension at {oid.dotted_string}", field=self.field
            )
        return value.value

    def parse(self, oid: x509.ObjectIdentifier, name: str, parse: Callable[[bytes], T]) -> T | None:
        value = self.raw(oid)
        if value is None:
            return None
        try:
            return parse(value)
        except ValueError as exc:
            raise MalformedEvidence(str(exc), field=f"{self.field}.{name}") from None


@dataclass(frozen=True)
class EndorsementExtensions:
    """What a VCEK or VLEK certificate endorses, from its AMD extensions.

    ``spls`` maps SPL names (``bootloader``, ``tee``, ``snp``, ``microcode``, ``fmc``,
    ``spl4``..``spl7``) to the values present. A VCEK has ``hwid``; a VLEK ``csp_id``.
    """

    struct_version: int
    product_name: str
    spls: Mapping[str, int]
    hwid: bytes | None = None
    csp_id: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "spls", MappingProxyType(dict(self.spls)))

    @property
    def product(self) -> Product | None:
        return product_from_name(self.product_name)

    def tcb(self, product: Product) -> TcbVersion:
        """The endorsed TCB_VERSION in ``product``'s layout; raise MalformedEvidence."""
        names = layout(product)
        stray = sorted(n for n, v in self.spls.items() if n not in names and v)
        if stray:
            raise MalformedEvidence(
                f"SPLs {stray} are not part of the {PRODUCT_NAMES[product]} TCB",
                field="certificate.tcb",
            )
        if product == "turin" and "fmc" not in self.spls:
            raise MalformedEvidence(
                "a Turin certificate carries an FMC SPL", field="certificate.tcb"
            )
        return TcbVersion.from_spls({n: v for n, v in self.spls.items() if n in names}, product)

    @classmethod
    def from_certificate(
        cls, cert: x509.Certificate, field: str = "certificate"
    ) -> EndorsementExtensions:
        """Read the AMD extensions; raise MalformedEvidence when one is missing or malformed."""
        reader = _Reader(cert, field)
        version = reader.parse(OID_STRUCT_VERSION, "struct_version", _der_byte)
        product_name = reader.parse(OID_PRODUCT_NAME, "product_name", _der_ia5)
        if version is None or product_name is None:
            raise MalformedEvidence(
                "not an AMD endorsement key certificate (no AMD product extensions)", field=field
            )
        spls: dict[str, int] = {}
        for name, oid in SPL_OIDS.items():
            value = reader.parse(oid, name, _der_byte)
            if value is not None:
                spls[name] = value
        absent = [name for name in _REQUIRED_SPLS if name not in spls]
        if absent:
            raise MalformedEvidence(
                f"no SPL extension for {', '.join(absent)}", field=f"{field}.tcb"
            )
        product = product_from_name(product_name)
        expected = HWID_SIZES[product] if product else None
        hwid = reader.parse(OID_HWID, "hwid", lambda raw: _hwid(raw, expected))
        csp_id = reader.parse(OID_CSP_ID, "csp_id", _der_ia5)
        return cls(version, product_name, spls, hwid, csp_id)

    def to_extensions(self) -> list[x509.UnrecognizedExtension]:
        """The extensions that carry these values (for building certificates)."""
        out = [
            x509.UnrecognizedExtension(OID_STRUCT_VERSION, encode_der_byte(self.struct_version)),
            x509.UnrecognizedExtension(OID_PRODUCT_NAME, encode_der_ia5(self.product_name)),
        ]
        out += [
            x509.UnrecognizedExtension(SPL_OIDS[name], encode_der_byte(value))
            for name, value in self.spls.items()
        ]
        if self.hwid is not None:
            out.append(x509.UnrecognizedExtension(OID_HWID, self.hwid))
        if self.csp_id is not None:
            out.append(x509.UnrecognizedExtension(OID_CSP_ID, encode_der_ia5(self.csp_id)))
        return out


def _hwid(raw: bytes, expected: int | None) -> bytes:
    """The chip id: raw octets of the product's size, or an OCTET STRING holding them."""
    sizes = (expected,) if expected else tuple(sorted(set(HWID_SIZES.values())))
    if len(raw) in sizes:
        return raw
    content = _single(raw, _OCTET_STRING, "OCTET STRING")
    if len(content) not in sizes:
        raise ValueError(f"a hwID is {' or '.join(map(str, sizes))} bytes, got {len(content)}")
    return content
