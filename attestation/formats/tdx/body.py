"""The TD report body of a TDX quote: what the TD claims about itself (Intel TDX DCAP quote spec).

Layout, little-endian, offsets from the start of the body::

    0x000  TEE_TCB_SVN     16      0x0B8  MRCONFIGID     48
    0x010  MRSEAM          48      0x0E8  MROWNER        48
    0x040  MRSIGNERSEAM    48      0x118  MROWNERCONFIG  48
    0x070  SEAMATTRIBUTES   8      0x148  RTMR0..RTMR3   4 x 48
    0x078  TDATTRIBUTES     8      0x208  REPORTDATA     64
    0x080  XFAM             8      0x248  end of a TDX 1.0 body (584 bytes)
    0x088  MRTD            48
    TDX 1.5 bodies (quote v5, body type 3) continue:
    0x248  TEE_TCB_SVN2    16
    0x258  MRSERVICETD     48      0x288  end (648 bytes)
"""

from __future__ import annotations

from dataclasses import dataclass

from attestation.errors import MalformedEvidence
from attestation.formats.binary import Reader, require_size

BODY_TYPE_TDX10 = 2
BODY_TYPE_TDX15 = 3
BODY_SIZES = {BODY_TYPE_TDX10: 584, BODY_TYPE_TDX15: 648}
TD_ATTRIBUTES_DEBUG = 1 << 0  # TDATTRIBUTES.TUD.DEBUG
TD_ATTRIBUTES_SEPT_VE_DISABLE = 1 << 28

# (field, size) in layout order; RTMRs are read as one block of four.
_LAYOUT_10: tuple[tuple[str, int], ...] = (
    ("tee_tcb_svn", 16),
    ("mrseam", 48),
    ("mrsignerseam", 48),
    ("seam_attributes", 8),
    ("td_attributes", 8),
    ("xfam", 8),
    ("mrtd", 48),
    ("mrconfigid", 48),
    ("mrowner", 48),
    ("mrownerconfig", 48),
)
_LAYOUT_15: tuple[tuple[str, int], ...] = (("tee_tcb_svn2", 16), ("mrservicetd", 48))


@dataclass(frozen=True)
class TdReportBody:
    """A parsed TD report body. ``tee_tcb_svn2``/``mrservicetd`` exist only in TDX 1.5 bodies."""

    tee_tcb_svn: bytes
    mrseam: bytes
    mrsignerseam: bytes
    seam_attributes: bytes
    td_attributes: bytes
    xfam: bytes
    mrtd: bytes
    mrconfigid: bytes
    mrowner: bytes
    mrownerconfig: bytes
    rtmrs: tuple[bytes, bytes, bytes, bytes]
    report_data: bytes
    tee_tcb_svn2: bytes | None = None
    mrservicetd: bytes | None = None

    def __post_init__(self) -> None:
        for name, size in _LAYOUT_10:
            require_size(getattr(self, name), size, name)
        if len(self.rtmrs) != 4:
            raise MalformedEvidence("there are exactly four RTMRs", field="rtmrs")
        for i, rtmr in enumerate(self.rtmrs):
            require_size(rtmr, 48, f"rtmr{i}")
        require_size(self.report_data, 64, "report_data")
        if (self.tee_tcb_svn2 is None) != (self.mrservicetd is None):
            raise MalformedEvidence("TDX 1.5 fields come together", field="tee_tcb_svn2")
        for name, size in _LAYOUT_15:
            value = getattr(self, name)
            if value is not None:
                require_size(value, size, name)

    @property
    def body_type(self) -> int:
        return BODY_TYPE_TDX10 if self.tee_tcb_svn2 is None else BODY_TYPE_TDX15

    @property
    def size(self) -> int:
        return BODY_SIZES[self.body_type]

    @property
    def td_attributes_value(self) -> int:
        return int.from_bytes(self.td_attributes, "little")

    @property
    def debug(self) -> bool:
        """TDATTRIBUTES bit 0 (TUD.DEBUG): the host can read and change the TD's state."""
        return bool(self.td_attributes_value & TD_ATTRIBUTES_DEBUG)

    @classmethod
    def parse(cls, reader: Reader, body_type: int) -> TdReportBody:
        """Read a body of ``body_type`` (2: TDX 1.0, 3: TDX 1.5) from ``reader``."""
        if body_type not in BODY_SIZES:
            raise MalformedEvidence(
                f"unknown TD report body type {body_type}", field="body_type", offset=reader.offset
            )
        fields: dict[str, bytes] = {name: reader.take(size, name) for name, size in _LAYOUT_10}
        rtmrs = (
            reader.take(48, "rtmr0"),
            reader.take(48, "rtmr1"),
            reader.take(48, "rtmr2"),
            reader.take(48, "rtmr3"),
        )
        report_data = reader.take(64, "report_data")
        extra: dict[str, bytes] = {}
        if body_type == BODY_TYPE_TDX15:
            extra = {name: reader.take(size, name) for name, size in _LAYOUT_15}
        return cls(**fields, rtmrs=rtmrs, report_data=report_data, **extra)

    def to_bytes(self) -> bytes:
        parts = [getattr(self, name) for name, _ in _LAYOUT_10]
        parts += [*self.rtmrs, self.report_data]
        if self.tee_tcb_svn2 is not None and self.mrservicetd is not None:
            parts += [self.tee_tcb_svn2, self.mrservicetd]
        return b"".join(parts)
