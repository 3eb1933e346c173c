"""The 32-byte measurement id that the registry stores for an enclave image.

Raw measurements do not fit one EVM word and differ per platform: SNP's launch measurement,
TDX's MRTD and Nitro's PCRs are 48 bytes, and an image's identity can span several registers
(TDX MRTD plus RTMRs, several PCRs). The registry therefore stores::

    measurement_id = sha256(JCS({"platform": <platform>, "measurements": {<name>: <hex>, ...}}))

with JCS = RFC 8785 canonical JSON, names as in ``VerifiedEvidence.measurements``
(``measurement``; ``mrtd``, ``rtmr0``..; ``pcr0``..) and values as lowercase hex. The
platform is inside the hash, so equal bytes on two platforms never share an id; the caller
chooses which registers make up the identity, and must choose the same ones every time
(the operator's policy names them).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping

from transcript.canonical import canonical_json

_NAME = re.compile(r"[a-z][a-z0-9_]{0,31}")
_HEX = re.compile(r"(?:[0-9a-f]{2})+")


def measurement_id(platform: str, measurements: Mapping[str, str]) -> bytes:
    """The registry's 32-byte id for an image measured as ``measurements`` on ``platform``."""
    if not platform or not isinstance(platform, str):
        raise ValueError("platform must be a non-empty string")
    if not measurements:
        raise ValueError("at least one measurement register is needed")
    for name, value in measurements.items():
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise ValueError(f"bad register name {name!r}")
        if not isinstance(value, str) or not _HEX.fullmatch(value):
            raise ValueError(f"register {name} must be lowercase hex of whole bytes")
    document = {"platform": platform, "measurements": dict(measurements)}
    return hashlib.sha256(canonical_json(document)).digest()
