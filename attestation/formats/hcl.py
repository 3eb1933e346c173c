"""The Azure confidential VM "HCL report": the vTPM's attestation key bound to hardware.

On an Azure confidential VM the paravisor (HCL) writes this blob into the vTPM's NV index
0x01400001 at boot. It is a request structure of the host's IGVM agent, little-endian::

    0x000  header (32 bytes)       UINT32 signature "HCLA" (0x414c4348), version,
                                   report_size, request_type, status, reserved[3]
    0x020  hardware report area    1184 bytes: an SNP attestation report (1184 bytes), or a
                                   TDX TDREPORT (first 1024 bytes, then padding)
    0x4c0  request data (20 bytes) UINT32 data_size, version, report_type (2 = SNP,
                                   4 = TDX), report_data_hash_type (1 = SHA-256,
                                   2 = SHA-384, 3 = SHA-512), variable_data_size
    0x4d4  runtime data            variable_data_size bytes of JSON ("runtime claims")

The hardware report's REPORT_DATA starts with ``H(runtime data)`` (hash per
report_data_hash_type). The runtime data is JSON with ``keys``, a JWK set whose key with
``kid`` ``HCLAkPub`` is the public half of the vTPM attestation key, ``vm-configuration``
and ``user-data``. So: hardware report signature → REPORT_DATA → runtime data → AK.

The NV index is larger than the report; :meth:`HclReport.from_nv` drops what follows the
runtime data, :meth:`HclReport.from_bytes` (used by the verifier) tolerates nothing after it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

import orjson
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from attestation.errors import MalformedEvidence
from attestation.formats.tpm.keys import PublicKey

HCL_NV_INDEX = 0x01400001
HCL_SIGNATURE = 0x414C4348  # b"HCLA" read as a little-endian UINT32
HEADER_SIZE = 32
HARDWARE_AREA_SIZE = 1184
REQUEST_DATA_OFFSET = HEADER_SIZE + HARDWARE_AREA_SIZE  # 0x4c0
REQUEST_DATA_SIZE = 20
RUNTIME_DATA_OFFSET = REQUEST_DATA_OFFSET + REQUEST_DATA_SIZE  # 0x4d4
MAX_RUNTIME_DATA = 64 * 1024
AK_KEY_ID = "HCLAkPub"


class HardwareReportType(IntEnum):
    SNP = 2
    TDX = 4


# report type -> (platform name, report size, offset of REPORT_DATA inside the report)
_HARDWARE = {
    HardwareReportType.SNP: ("sev-snp", 1184, 0x50),
    HardwareReportType.TDX: ("tdx", 1024, 128),
}
_HASH_TYPES = {1: "sha256", 2: "sha384", 3: "sha512"}
_JWK_CURVES: dict[str, ec.EllipticCurve] = {"P-256": ec.SECP256R1(), "P-384": ec.SECP384R1()}
_JWK_FIELD = f"hcl.runtime_data.keys.{AK_KEY_ID}"


@dataclass(frozen=True)
class Jwk:
    """A public JWK from the runtime data: RSA (``n``, ``e``) or EC (``crv``, ``x``, ``y``)."""

    kid: str
    kty: str
    n: int = 0
    e: int = 0
    crv: str = ""
    x: int = 0
    y: int = 0

    def public_key(self) -> PublicKey:
        """The key as a ``cryptography`` object; MalformedEvidence when it is not a valid key."""
        try:
            if self.kty == "RSA":
                return rsa.RSAPublicNumbers(self.e, self.n).public_key()
            if self.crv not in _JWK_CURVES:
                raise MalformedEvidence(f"unsupported curve {self.crv!r}", field=_JWK_FIELD)
            return ec.EllipticCurvePublicNumbers(self.x, self.y, _JWK_CURVES[self.crv]).public_key()
        except ValueError as exc:
            if isinstance(exc, MalformedEvidence):
                raise
            raise MalformedEvidence(f"not a valid public key: {exc}", field=_JWK_FIELD) from None


@dataclass(frozen=True)
class HclReport:
    """A parsed HCL report. ``hardware_area`` holds all 1184 bytes, padding included."""

    version: int
    report_size: int
    request_type: int
    status: int
    report_type: HardwareReportType
    hash_type: int
    data_size: int
    request_version: int
    hardware_area: bytes
    runtime_data: bytes

    @property
    def platform(self) -> str:
        """``sev-snp`` or ``tdx``: whose verifier checks the hardware report."""
        return _HARDWARE[self.report_type][0]

    @property
    def hardware_report(self) -> bytes:
        return self.hardware_area[: _HARDWARE[self.report_type][1]]

    @property
    def hardware_report_data(self) -> bytes:
        """The 64-byte REPORT_DATA field of the hardware report (unverified here)."""
        offset = _HARDWARE[self.report_type][2]
        return self.hardware_report[offset : offset + 64]

    @property
    def hash_name(self) -> str:
        return _HASH_TYPES[self.hash_type]

    def runtime_data_digest(self) -> bytes:
        """``H(runtime data)``: what REPORT_DATA must start with."""
        return hashlib.new(self.hash_name, self.runtime_data).digest()

    def runtime_claims(self) -> dict[str, Any]:
        """The runtime data as a JSON object (MalformedEvidence when it is not one)."""
        try:
            claims = orjson.loads(self.runtime_data)
        except orjson.JSONDecodeError as exc:
            raise MalformedEvidence(f"not JSON: {exc}", field="hcl.runtime_data") from None
        if not isinstance(claims, dict):
            raise MalformedEvidence("not a JSON object", field="hcl.runtime_data")
        return claims

    def ak_jwk(self) -> Jwk:
        """The attestation key's public JWK (``kid`` ``HCLAkPub``) from the runtime data."""
        keys = self.runtime_claims().get("keys")
        if not isinstance(keys, list):
            raise MalformedEvidence("has no 'keys' list", field="hcl.runtime_data.keys")
        found = [k for k in keys if isinstance(k, dict) and k.get("kid") == AK_KEY_ID]
        if len(found) != 1:
            raise MalformedEvidence(
                f"needs exactly one key with kid {AK_KEY_ID!r}, found {len(found)}",
                field="hcl.runtime_data.keys",
            )
        return _parse_jwk(found[0])

    def to_bytes(self) -> bytes:
        header = struct.pack(
            "<5I12x", HCL_SIGNATURE, self.version, self.report_size, self.request_type, self.status
        )
        request = struct.pack(
            "<5I",
            self.data_size,
            self.request_version,
            self.report_type,
            self.hash_type,
            len(self.runtime_data),
        )
        return header + self.hardware_area + request + self.runtime_data

    @classmethod
    def from_bytes(cls, data: bytes) -> HclReport:
        """Parse exactly one HCL report; nothing may follow the runtime data."""
        report, end = cls._parse(data)
        if end != len(data):
            raise MalformedEvidence(f"{len(data) - end} trailing bytes", field="hcl", offset=end)
        return report

    @classmethod
    def from_nv(cls, data: bytes) -> HclReport:
        """Parse the content of NV index 0x01400001, ignoring the index's unused tail."""
        return cls._parse(data)[0]

    @classmethod
    def _parse(cls, data: bytes) -> tuple[HclReport, int]:
        if not isinstance(data, bytes) or len(data) < RUNTIME_DATA_OFFSET:
            size = len(data) if isinstance(data, bytes) else "not bytes"
            raise MalformedEvidence(
                f"needs at least {RUNTIME_DATA_OFFSET} bytes, got {size}", field="hcl"
            )
        signature, version, report_size, request_type, status = struct.unpack_from("<5I", data)
        if signature != HCL_SIGNATURE:
            raise MalformedEvidence(
                f"0x{signature:08x} is not 'HCLA'", field="hcl.header.signature", offset=0
            )
        data_size, req_version, kind, hash_type, var_size = struct.unpack_from(
            "<5I", data, REQUEST_DATA_OFFSET
        )
        if kind not in {t.value for t in HardwareReportType}:
            raise MalformedEvidence(
                f"unsupported hardware report type {kind} (2 = SNP, 4 = TDX)",
                field="hcl.request_data.report_type",
                offset=REQUEST_DATA_OFFSET + 8,
            )
        if hash_type not in _HASH_TYPES:
            raise MalformedEvidence(
                f"unknown hash type {hash_type}",
                field="hcl.request_data.report_data_hash_type",
                offset=REQUEST_DATA_OFFSET + 12,
            )
        end = RUNTIME_DATA_OFFSET + var_size
        if var_size > MAX_RUNTIME_DATA or end > len(data):
            raise MalformedEvidence(
                f"variable_data_size {var_size} exceeds the {len(data) - RUNTIME_DATA_OFFSET} "
                "bytes that follow",
                field="hcl.request_data.variable_data_size",
                offset=REQUEST_DATA_OFFSET + 16,
            )
        report = cls(
            version=version,
            report_size=report_size,
            request_type=request_type,
            status=status,
            report_type=HardwareReportType(kind),
            hash_type=hash_type,
            data_size=data_size,
            request_version=req_version,
            hardware_area=data[HEADER_SIZE:REQUEST_DATA_OFFSET],
            runtime_data=data[RUNTIME_DATA_OFFSET:end],
        )
        return report, end


def _b64url_int(jwk: dict[str, Any], name: str) -> int:
    value = jwk.get(name)
    if not isinstance(value, str) or not value:
        raise MalformedEvidence("missing", field=f"{_JWK_FIELD}.{name}")
    try:
        raw = base64.b64decode(value + "=" * (-len(value) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError):
        raise MalformedEvidence("not base64url", field=f"{_JWK_FIELD}.{name}") from None
    return int.from_bytes(raw, "big")


def _parse_jwk(jwk: dict[str, Any]) -> Jwk:
    kty = jwk.get("kty")
    if kty == "RSA":
        return Jwk(AK_KEY_ID, "RSA", n=_b64url_int(jwk, "n"), e=_b64url_int(jwk, "e"))
    if kty == "EC" and isinstance(jwk.get("crv"), str):
        return Jwk(
            AK_KEY_ID, "EC", crv=jwk["crv"], x=_b64url_int(jwk, "x"), y=_b64url_int(jwk, "y")
        )
    raise MalformedEvidence(f"unsupported key type {kty!r}", field=f"{_JWK_FIELD}.kty")
