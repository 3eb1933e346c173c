"""The platform-neutral evidence model and the provider interface.

``Evidence`` holds raw bytes exactly as the platform produced them (an SNP report, a TDX
quote, a Nitro COSE document, a TPM quote) plus whatever certificates or collateral came
with them. Parsing those bytes is the job of :mod:`attestation.formats`; checking them
is the verifier's. The JSON form (``to_json``/``from_json``) is what ``veritee attest``
writes and what ``GET /v1/attestation`` returns inside its ``evidence`` member.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal, Protocol, runtime_checkable

import orjson

from attestation.errors import InvalidReportData, MalformedEvidence

Platform = Literal["sev-snp", "tdx", "nitro", "vtpm"]
PLATFORMS: tuple[Platform, ...] = ("sev-snp", "tdx", "nitro", "vtpm")
EVIDENCE_TYPE = "veritee.evidence.v1"
REPORT_DATA_SIZE = 64


def check_report_data(report_data: bytes) -> bytes:
    """Return ``report_data`` if it is exactly 64 bytes, else raise InvalidReportData."""
    if not isinstance(report_data, bytes | bytearray) or len(report_data) != REPORT_DATA_SIZE:
        size = len(report_data) if isinstance(report_data, bytes | bytearray) else "not bytes"
        raise InvalidReportData(f"report_data must be exactly 64 bytes, got {size}")
    return bytes(report_data)


def _frozen(mapping: Mapping[str, bytes] | None) -> Mapping[str, bytes]:
    return MappingProxyType(dict(mapping or {}))


@dataclass(frozen=True)
class Evidence:
    """Raw attestation evidence from one platform.

    - ``report``: the primary signed blob (SNP report, TDX quote, Nitro document, TPM quote).
    - ``report_data``: the 64 bytes that were asked to be bound into it.
    - ``certificates``: DER certificates by role (``vcek``, ``vlek``, ``ask``, ``ark``,
      ``ak``...), when the platform hands them out with the report.
    - ``collateral``: further verification material (TDX TCB info, CRLs...), by name.
    - ``extra``: other platform blobs by name (vTPM: ``signature``, ``ak_public``...).
    - ``provider``: which provider produced it; informational only, never trusted.
    """

    platform: Platform
    report: bytes
    report_data: bytes
    provider: str
    certificates: Mapping[str, bytes] = field(default_factory=dict)
    collateral: Mapping[str, bytes] = field(default_factory=dict)
    extra: Mapping[str, bytes] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.platform not in PLATFORMS:
            raise MalformedEvidence(f"unknown platform {self.platform!r}", field="platform")
        if not isinstance(self.report, bytes) or not self.report:
            raise MalformedEvidence("report must be non-empty bytes", field="report")
        try:
            check_report_data(self.report_data)
        except InvalidReportData as exc:
            raise MalformedEvidence(str(exc), field="report_data") from None
        for name in ("certificates", "collateral", "extra"):
            mapping = getattr(self, name)
            if not all(isinstance(k, str) and isinstance(v, bytes) for k, v in mapping.items()):
                raise MalformedEvidence("must map names to bytes", field=name)
            object.__setattr__(self, name, _frozen(mapping))

    def to_dict(self) -> dict[str, Any]:
        def b64(mapping: Mapping[str, bytes]) -> dict[str, str]:
            return {k: base64.b64encode(v).decode() for k, v in sorted(mapping.items())}

        return {
            "type": EVIDENCE_TYPE,
            "platform": self.platform,
            "provider": self.provider,
            "report": base64.b64encode(self.report).decode(),
            "report_data": self.report_data.hex(),
            "certificates": b64(self.certificates),
            "collateral": b64(self.collateral),
            "extra": b64(self.extra),
        }

    def to_json(self) -> bytes:
        return orjson.dumps(self.to_dict(), option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS)

    @classmethod
    def from_dict(cls, data: object) -> Evidence:
        if not isinstance(data, dict):
            raise MalformedEvidence("evidence must be a JSON object")
        if data.get("type") != EVIDENCE_TYPE:
            raise MalformedEvidence(f"must be {EVIDENCE_TYPE!r}", field="type")
        for key in ("platform", "provider", "report", "report_data"):
            if not isinstance(data.get(key), str):
                raise MalformedEvidence("missing or not a string", field=key)

        def unb64(value: object, name: str) -> bytes:
            if not isinstance(value, str):
                raise MalformedEvidence("must be base64", field=name)
            try:
                return base64.b64decode(value, validate=True)
            except (binascii.Error, ValueError):
                raise MalformedEvidence("must be base64", field=name) from None

        def mapping(name: str) -> dict[str, bytes]:
            value = data.get(name, {})
            if not isinstance(value, dict):
                raise MalformedEvidence("must be an object", field=name)
            return {str(k): unb64(v, f"{name}.{k}") for k, v in value.items()}

        try:
            report_data = bytes.fromhex(data["report_data"])
        except ValueError:
            raise MalformedEvidence("must be hex", field="report_data") from None
        return cls(
            platform=data["platform"],
            provider=data["provider"],
            report=unb64(data["report"], "report"),
            report_data=report_data,
            certificates=mapping("certificates"),
            collateral=mapping("collateral"),
            extra=mapping("extra"),
        )

    @classmethod
    def from_json(cls, raw: bytes | str) -> Evidence:
        try:
            return cls.from_dict(orjson.loads(raw))
        except orjson.JSONDecodeError as exc:
            raise MalformedEvidence(f"not valid JSON: {exc}") from None


@runtime_checkable
class EvidenceProvider(Protocol):
    """Something that obtains fresh evidence binding 64 bytes of report data.

    Implementations must call :func:`check_report_data` on their input.
    """

    name: str
    platform: Platform

    def get_evidence(self, report_data: bytes) -> Evidence: ...
