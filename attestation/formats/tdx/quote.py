"""TDX quotes, versions 4 and 5, parsed by their length fields.

::

    v4:  header (48) ‖ TD report body (584)                          ‖ sig size u32 ‖ sig data
    v5:  header (48) ‖ body type u16 ‖ body size u32 ‖ body (584|648) ‖ sig size u32 ‖ sig data

The ECDSA quote signature covers everything before the signature-size field: the first
632 bytes of a v4 quote, the first 638 or 702 of a v5 one. Bytes after the signature
data are not part of the quote: configfs pads its output with zeros and some test
quotes append text. They are kept as ``trailing`` (never interpreted, never trusted).
"""

from __future__ import annotations

from dataclasses import dataclass

from attestation.errors import MalformedEvidence
from attestation.formats.binary import Reader
from attestation.formats.tdx.body import BODY_SIZES, BODY_TYPE_TDX10, TdReportBody
from attestation.formats.tdx.header import QuoteHeader
from attestation.formats.tdx.signature import QuoteSignatureData


@dataclass(frozen=True)
class TdxQuote:
    header: QuoteHeader
    body: TdReportBody
    signature_data: QuoteSignatureData
    trailing: bytes = b""

    def __post_init__(self) -> None:
        if self.header.version == 4 and self.body.body_type != BODY_TYPE_TDX10:
            raise MalformedEvidence("a v4 quote carries a TDX 1.0 body", field="body")

    @property
    def version(self) -> int:
        return self.header.version

    @property
    def signed_bytes(self) -> bytes:
        """The bytes the attestation key signs: header, [body descriptor,] body."""
        body = self.body.to_bytes()
        if self.header.version == 4:
            return self.header.to_bytes() + body
        descriptor = self.body.body_type.to_bytes(2, "little") + len(body).to_bytes(4, "little")
        return self.header.to_bytes() + descriptor + body

    @classmethod
    def from_bytes(cls, data: bytes) -> TdxQuote:
        if not isinstance(data, bytes | bytearray):
            raise MalformedEvidence("a quote is bytes", field="quote")
        reader = Reader(bytes(data))
        header = QuoteHeader.parse(reader)
        if header.version == 4:
            body = TdReportBody.parse(reader, BODY_TYPE_TDX10)
        else:
            type_offset = reader.offset
            body_type = reader.u16("body_type")
            body_size = reader.u32("body_size")
            if body_type not in BODY_SIZES:
                raise MalformedEvidence(
                    f"unknown TD report body type {body_type} (2: TDX 1.0, 3: TDX 1.5)",
                    field="body_type",
                    offset=type_offset,
                )
            if body_size != BODY_SIZES[body_type]:
                raise MalformedEvidence(
                    f"body type {body_type} is {BODY_SIZES[body_type]} bytes, not {body_size}",
                    field="body_size",
                    offset=type_offset + 2,
                )
            body = TdReportBody.parse(reader.sub(body_size, "body"), body_type)
        signature_size = reader.u32("signature_data_size")
        signed = reader.sub(signature_size, "signature_data")
        signature_data = QuoteSignatureData.parse(signed)
        signed.expect_end("signature_data")
        return cls(header, body, signature_data, reader.rest())

    def to_bytes(self) -> bytes:
        signature_data = self.signature_data.to_bytes()
        return b"".join(
            (
                self.signed_bytes,
                len(signature_data).to_bytes(4, "little"),
                signature_data,
                self.trailing,
            )
        )
