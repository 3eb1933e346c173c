"""What the collateral layer hands out: Intel TDX collateral sets and AMD SEV-SNP certificates.

Everything is kept as the bytes the vendor served (raw JSON, DER, PEM). Nothing here is
trusted: the platform verifiers check every signature and chain against their roots.
"""

from __future__ import annotations

import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from types import MappingProxyType
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from attestation.errors import MalformedEvidence
from attestation.formats.pki import load_der_crl, load_pem_crl
from verifier.collateral.rawjson import check_depth, raw_member
from verifier.errors import BadInput

PckCa = Literal["platform", "processor"]
PCK_CAS: tuple[PckCa, ...] = ("platform", "processor")
AmdProduct = Literal["Milan", "Genoa", "Turin"]
AMD_PRODUCTS: tuple[AmdProduct, ...] = ("Milan", "Genoa", "Turin")
AmdKeyType = Literal["vcek", "vlek"]

_CHECK = "collateral.format"
EVIDENCE_KEYS = (
    "tcb_info",
    "tcb_info_signature",
    "tcb_info_issuer_chain",
    "qe_identity",
    "qe_identity_signature",
    "qe_identity_issuer_chain",
    "pck_crl",
    "pck_crl_issuer_chain",
    "root_ca_crl",
)


def crl_der(data: bytes, what: str) -> bytes:
    """A CRL as DER, from DER or PEM bytes; BadInput if it is neither."""
    try:
        if data.lstrip().startswith(b"-----BEGIN"):
            return load_pem_crl(data, what).public_bytes(Encoding.DER)
        load_der_crl(data, what)
    except MalformedEvidence as exc:
        raise BadInput(_CHECK, f"{what} is not a PEM or DER CRL: {exc}") from None
    return data


def unhex(text: object, what: str) -> bytes:
    if not isinstance(text, str):
        raise BadInput(_CHECK, f"{what} must be a hex string")
    try:
        return binascii.unhexlify(text.strip())
    except (binascii.Error, ValueError):
        raise BadInput(_CHECK, f"{what} must be a hex string") from None


@dataclass(frozen=True)
class TdxCollateral:
    """One FMSPC's TDX collateral, as Intel signed it.

    - ``tcb_info`` / ``qe_identity``: the raw JSON bytes of the ``tcbInfo`` /
      ``enclaveIdentity`` value exactly as served (the signed bytes);
      ``*_signature``: 64 bytes, r ‖ s (P-256, SHA-256 over those bytes).
    - ``*_issuer_chain``: PEM, the TCB Signing certificate then the root.
    - ``pck_crl``: DER, issued by the PCK Platform or Processor CA; ``root_ca_crl``: DER.
    """

    tcb_info: bytes
    tcb_info_signature: bytes
    tcb_info_issuer_chain: bytes
    qe_identity: bytes
    qe_identity_signature: bytes
    qe_identity_issuer_chain: bytes
    pck_crl: bytes
    pck_crl_issuer_chain: bytes
    root_ca_crl: bytes
    origin: str = ""

    def __post_init__(self) -> None:
        for name in ("tcb_info_signature", "qe_identity_signature"):
            if len(getattr(self, name)) != 64:
                raise BadInput(_CHECK, f"{name} must be 64 bytes (r ‖ s)")
        for name in ("tcb_info", "qe_identity", "pck_crl", "root_ca_crl"):
            if not getattr(self, name):
                raise BadInput(_CHECK, f"{name} is empty")

    @property
    def fmspc(self) -> str:
        """The FMSPC the TCB info claims, lower-case hex, "" if unreadable (lookups only)."""
        try:
            return _json_field(self.tcb_info, "fmspc", "tcb_info").lower()
        except BadInput:
            return ""

    def pck_crl_issuer(self) -> str:
        """The PCK CRL issuer's common name, "" if unreadable (lookups only)."""
        try:
            crl = load_der_crl(self.pck_crl, "pck_crl")
            names = crl.issuer.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
        except MalformedEvidence:
            return ""
        return str(names[0].value) if names else ""

    def serves(self, fmspc: str, ca: PckCa) -> bool:
        """Whether this set claims ``fmspc`` and ``ca``. A set whose claims are unreadable is
        handed out anyway: the verifier then says precisely what is wrong with it.
        """
        claimed, issuer = self.fmspc, self.pck_crl_issuer().lower()
        return claimed in ("", fmspc.lower()) and (not issuer or ca.lower() in issuer)

    def window(self) -> tuple[datetime, datetime] | None:
        """(not before, not after) of the whole set, None if unreadable (choosing only)."""
        try:
            return self.not_before(), self.not_after()
        except (BadInput, ValueError, TypeError):
            return None

    def not_after(self) -> datetime:
        """When the first of its parts expires (unverified: for choosing and caching only)."""
        ends = [self._time(self.tcb_info, "nextUpdate"), self._time(self.qe_identity, "nextUpdate")]
        for der in (self.pck_crl, self.root_ca_crl):
            next_update = load_der_crl(der, "crl").next_update_utc
            if next_update is not None:
                ends.append(next_update)
        return min(ends)

    def not_before(self) -> datetime:
        """When the last of its parts was issued (unverified: for choosing and caching only)."""
        starts = [self._time(self.tcb_info, "issueDate"), self._time(self.qe_identity, "issueDate")]
        starts += [load_der_crl(d, "crl").last_update_utc for d in (self.pck_crl, self.root_ca_crl)]
        return max(starts)

    def valid_at(self, now: datetime) -> bool:
        window = self.window()
        return window is not None and window[0] <= now <= window[1]

    @staticmethod
    def _time(raw: bytes, key: str) -> datetime:
        try:
            return datetime.fromisoformat(_json_field(raw, key, "collateral"))
        except ValueError:
            raise BadInput(_CHECK, f"collateral {key} is not an ISO 8601 time") from None

    @classmethod
    def from_pcs_responses(
        cls,
        *,
        tcb_info_response: bytes,
        tcb_info_issuer_chain: bytes,
        qe_identity_response: bytes,
        qe_identity_issuer_chain: bytes | None,
        pck_crl: bytes,
        pck_crl_issuer_chain: bytes,
        root_ca_crl: bytes,
        origin: str = "",
    ) -> TdxCollateral:
        """Build from raw Intel PCS responses (bodies plus their issuer-chain headers).

        The QE identity and the TCB info are both signed by the TCB Signing key, so the
        QE identity's chain defaults to the TCB info's when it was not kept.
        """
        tcb_raw, tcb_sig = _signed_member(tcb_info_response, "tcbInfo")
        qe_raw, qe_sig = _signed_member(qe_identity_response, "enclaveIdentity")
        return cls(
            tcb_info=tcb_raw,
            tcb_info_signature=tcb_sig,
            tcb_info_issuer_chain=tcb_info_issuer_chain,
            qe_identity=qe_raw,
            qe_identity_signature=qe_sig,
            qe_identity_issuer_chain=qe_identity_issuer_chain or tcb_info_issuer_chain,
            pck_crl=crl_der(pck_crl, "pck_crl"),
            pck_crl_issuer_chain=pck_crl_issuer_chain,
            root_ca_crl=crl_der(root_ca_crl, "root_ca_crl"),
            origin=origin,
        )

    @classmethod
    def from_bundle_dict(cls, data: object, origin: str = "") -> TdxCollateral:
        """Load the JSON object format of dcap-qvl's ``QuoteCollateralV3`` (see docs)."""
        if not isinstance(data, dict):
            raise BadInput(_CHECK, "a TDX collateral set is a JSON object")
        text: dict[str, str] = {}
        for key in (
            "tcb_info",
            "tcb_info_issuer_chain",
            "qe_identity",
            "qe_identity_issuer_chain",
            "pck_crl_issuer_chain",
        ):
            value = data.get(key)
            if not isinstance(value, str) or not value:
                raise BadInput(_CHECK, f"TDX collateral needs {key!r} (a string)")
            text[key] = value
        return cls(
            tcb_info=text["tcb_info"].encode("utf-8"),
            tcb_info_signature=unhex(data.get("tcb_info_signature"), "tcb_info_signature"),
            tcb_info_issuer_chain=text["tcb_info_issuer_chain"].encode(),
            qe_identity=text["qe_identity"].encode("utf-8"),
            qe_identity_signature=unhex(data.get("qe_identity_signature"), "qe_identity_signature"),
            qe_identity_issuer_chain=text["qe_identity_issuer_chain"].encode(),
            pck_crl=crl_der(unhex(data.get("pck_crl"), "pck_crl"), "pck_crl"),
            pck_crl_issuer_chain=text["pck_crl_issuer_chain"].encode(),
            root_ca_crl=crl_der(unhex(data.get("root_ca_crl"), "root_ca_crl"), "root_ca_crl"),
            origin=origin,
        )

    @classmethod
    def from_evidence(cls, carried: Mapping[str, bytes]) -> TdxCollateral | None:
        """The collateral an :class:`Evidence` carries (raw bytes under the bundle's key
        names: JSON, 64-byte signatures, PEM chains, DER CRLs), or None if it carries none.
        """
        if "tcb_info" not in carried:
            return None
        missing = [k for k in EVIDENCE_KEYS if k not in carried]
        if missing:
            raise BadInput(_CHECK, f"evidence collateral lacks {missing}")
        return cls(**{k: carried[k] for k in EVIDENCE_KEYS}, origin="evidence")

    def to_evidence(self) -> dict[str, bytes]:
        return {k: getattr(self, k) for k in EVIDENCE_KEYS}

    def to_bundle_dict(self) -> dict[str, str]:
        return {
            "tcb_info": self.tcb_info.decode("utf-8"),
            "tcb_info_signature": self.tcb_info_signature.hex(),
            "tcb_info_issuer_chain": self.tcb_info_issuer_chain.decode(),
            "qe_identity": self.qe_identity.decode("utf-8"),
            "qe_identity_signature": self.qe_identity_signature.hex(),
            "qe_identity_issuer_chain": self.qe_identity_issuer_chain.decode(),
            "pck_crl": self.pck_crl.hex(),
            "pck_crl_issuer_chain": self.pck_crl_issuer_chain.decode(),
            "root_ca_crl": self.root_ca_crl.hex(),
        }


@dataclass(frozen=True)
class AmdTcb:
    """The reported TCB an AMD VCEK is issued for (security patch levels)."""

    bootloader: int
    tee: int
    snp: int
    microcode: int
    fmc: int | None = None  # Turin and later

    def __post_init__(self) -> None:
        for name in ("bootloader", "tee", "snp", "microcode", "fmc"):
            value = getattr(self, name)
            if value is not None and (type(value) is not int or not 0 <= value <= 255):
                raise BadInput(_CHECK, f"AMD TCB {name} must be 0..255")

    def query(self) -> str:
        """The AMD KDS query string for this TCB."""
        parts = [] if self.fmc is None else [f"fmcSPL={self.fmc:02d}"]
        parts += [
            f"blSPL={self.bootloader:02d}",
            f"teeSPL={self.tee:02d}",
            f"snpSPL={self.snp:02d}",
            f"ucodeSPL={self.microcode:02d}",
        ]
        return "&".join(parts)

    def key(self) -> str:
        """A file-name-safe key for caches and directories."""
        return self.query().replace("&", "_").replace("=", "-")


@dataclass(frozen=True)
class AmdChain:
    """An AMD product's intermediate (ASK for VCEKs, ASVK for VLEKs) and root (ARK), DER."""

    intermediate: bytes
    root: bytes


def _json_field(raw: bytes, key: str, what: str) -> str:
    """A top-level string of unverified JSON (for lookups), cached by the JSON's bytes."""
    value = _json_strings(bytes(raw)).get(key)
    if value is None:
        raise BadInput(_CHECK, f"{what} has no string {key!r}")
    return value


@lru_cache(maxsize=64)
def _json_strings(raw: bytes) -> Mapping[str, str]:
    try:
        check_depth(raw)
        data = json.loads(raw)
    except ValueError:
        return MappingProxyType({})
    if not isinstance(data, dict):
        return MappingProxyType({})
    return MappingProxyType({k: v for k, v in data.items() if isinstance(v, str)})


def _signed_member(body: bytes, key: str) -> tuple[bytes, bytes]:
    try:
        raw = raw_member(body, key)
        signature = json.loads(raw_member(body, "signature"))
    except ValueError as exc:
        raise BadInput(_CHECK, f"PCS response has no usable {key!r}: {exc}") from None
    return raw, unhex(signature, f"{key} signature")
