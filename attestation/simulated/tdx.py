"""The ``simulated-tdx`` platform: real-format TDX quotes (v4, or v5) signed by a local PKI.

``SimulatedTdx`` plays Intel's part (root CA, PCK CA, TCB signing) and the platform's
(TDX module, quoting enclave with its attestation key). Its quotes go through exactly the
checks real ones do; a verifier accepts them only when it is given the simulator's root
(``<state>/roots``), and rejects them against the real Intel root.

``SimulatedTdxProvider`` is the :class:`EvidenceProvider`; its evidence carries matching
signed collateral, so verifying it offline needs nothing but the simulator's root.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from attestation.evidence import Evidence, Platform, check_report_data
from attestation.formats.tdx import (
    INTEL_QE_VENDOR_ID,
    CertificationData,
    EnclaveReport,
    PckExtensions,
    QeReportCertificationData,
    QuoteHeader,
    QuoteSignatureData,
    TdInfo,
    TdReport,
    TdReportBody,
    TdxQuote,
    TeeTcbInfo,
)
from attestation.formats.tdx.body import TD_ATTRIBUTES_DEBUG, TD_ATTRIBUTES_SEPT_VE_DISABLE
from attestation.simulated.tdx_collateral import (
    PlatformTcb,
    build_collateral,
    default_qe_identity,
    default_tcb_info,
    sign_raw,
)
from attestation.simulated.tdx_pki import ROOT_FILE, SimulatedPki

_ZERO48 = bytes(48)


def _measure(label: str) -> bytes:
    return hashlib.sha384(f"veritee simulated {label}".encode()).digest()


@dataclass(frozen=True)
class SimulatedTdxConfig:
    """What the simulated TD and platform report. Defaults: a non-debug TDX 1.0 TD."""

    mrtd: bytes = field(default_factory=lambda: _measure("MRTD"))
    rtmrs: tuple[bytes, bytes, bytes, bytes] = (_ZERO48, _ZERO48, _ZERO48, _ZERO48)
    mrconfigid: bytes = _ZERO48
    mrowner: bytes = _ZERO48
    mrownerconfig: bytes = _ZERO48
    mrseam: bytes = field(default_factory=lambda: _measure("TDX module"))
    mrsignerseam: bytes = _ZERO48
    seam_attributes: bytes = bytes(8)
    debug: bool = False
    xfam: bytes = bytes.fromhex("e71a060000000000")
    tee_tcb_svn: bytes = bytes.fromhex("03010200000000000000000000000000")
    fmspc: bytes = bytes.fromhex("00EE0F000000")
    pce_id: bytes = bytes(2)
    sgx_components: tuple[int, ...] = (3, 3, 2, 2, 4, 1, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0)
    pce_svn: int = 11
    qe_isv_prod_id: int = 2
    qe_isv_svn: int = 4

    @property
    def td_attributes(self) -> bytes:
        value = TD_ATTRIBUTES_SEPT_VE_DISABLE | (TD_ATTRIBUTES_DEBUG if self.debug else 0)
        return value.to_bytes(8, "little")


class SimulatedTdx:
    """A simulated TDX platform with its quoting enclave and its (fake) Intel PKI."""

    def __init__(self, pki: SimulatedPki, config: SimulatedTdxConfig | None = None) -> None:
        self.pki = pki
        self.config = config or SimulatedTdxConfig()
        root_key = pki.root.cert.public_key().public_bytes(
            Encoding.DER, PublicFormat.SubjectPublicKeyInfo
        )
        self.qe_mrsigner = hashlib.sha256(b"qe mrsigner" + root_key).digest()
        self.qe_mrenclave = hashlib.sha256(b"qe mrenclave" + root_key).digest()

    @classmethod
    def create(cls, *, now: datetime, config: SimulatedTdxConfig | None = None) -> SimulatedTdx:
        """A fresh simulator held in memory, its certificates valid from ``now``."""
        config = config or SimulatedTdxConfig()
        return cls(SimulatedPki.create(_pck_extensions(config), now), config)

    @classmethod
    def open(
        cls, state: Path, *, now: datetime, config: SimulatedTdxConfig | None = None
    ) -> SimulatedTdx:
        """Load the simulator kept in ``state``, creating it (valid from ``now``) if absent.

        The PCK certificate's SGX TCB and FMSPC are fixed when the state is created; a
        later ``config`` changes what the TD reports, not what its PCK certificate says.
        """
        state = Path(state)
        if (state / "tdx" / "root-ca.pem").is_file():
            return cls(SimulatedPki.load(state), config)
        config = config or SimulatedTdxConfig()
        fresh = SimulatedPki.create(_pck_extensions(config), now)
        return cls(fresh.save_once(state), config)

    @staticmethod
    def roots_file(state: Path) -> Path:
        return Path(state) / "roots" / ROOT_FILE

    @property
    def platform_tcb(self) -> PlatformTcb:
        c = self.config
        return PlatformTcb(
            fmspc=c.fmspc,
            pce_id=c.pce_id,
            sgx_components=c.sgx_components,
            pce_svn=c.pce_svn,
            tee_tcb_svn=c.tee_tcb_svn,
            mrsignerseam=c.mrsignerseam,
            qe_mrsigner=self.qe_mrsigner,
            qe_isv_prod_id=c.qe_isv_prod_id,
            qe_isv_svn=c.qe_isv_svn,
        )

    def body(self, report_data: bytes, *, tdx15: bool = False) -> TdReportBody:
        c = self.config
        return TdReportBody(
            tee_tcb_svn=c.tee_tcb_svn,
            mrseam=c.mrseam,
            mrsignerseam=c.mrsignerseam,
            seam_attributes=c.seam_attributes,
            td_attributes=c.td_attributes,
            xfam=c.xfam,
            mrtd=c.mrtd,
            mrconfigid=c.mrconfigid,
            mrowner=c.mrowner,
            mrownerconfig=c.mrownerconfig,
            rtmrs=c.rtmrs,
            report_data=check_report_data(report_data),
            tee_tcb_svn2=c.tee_tcb_svn if tdx15 else None,
            mrservicetd=_ZERO48 if tdx15 else None,
        )

    def quote(self, report_data: bytes, *, version: int = 4, tdx15: bool = False) -> bytes:
        """A signed TDX quote binding ``report_data`` (v4; v5 with a 1.0 or 1.5 body)."""
        header = QuoteHeader(
            version=version,
            attestation_key_type=2,
            tee_type=0x81,
            qe_svn=0,
            pce_svn=0,
            qe_vendor_id=INTEL_QE_VENDOR_ID,
            user_data=bytes(20),
        )
        unsigned = QuoteSignatureData(bytes(64), self._ak_raw(), self._qe_certification())
        quote = TdxQuote(header, self.body(report_data, tdx15=tdx15), unsigned)
        signature = sign_raw(self.pki.attestation_key, quote.signed_bytes)
        return replace(quote, signature_data=replace(unsigned, signature=signature)).to_bytes()

    def collateral(
        self,
        now: datetime,
        *,
        tcb_info: dict[str, Any] | None = None,
        qe_identity: dict[str, Any] | None = None,
        revoked: tuple[int, ...] = (),
    ) -> dict[str, bytes]:
        """Collateral issued at ``now`` (30 days valid); override the JSON to test statuses."""
        tcb = self.platform_tcb
        return build_collateral(
            self.pki,
            now=now,
            tcb_info=tcb_info if tcb_info is not None else default_tcb_info(tcb, now),
            qe_identity=qe_identity if qe_identity is not None else default_qe_identity(tcb, now),
            revoked=revoked,
        )

    def tdreport(self, report_data: bytes) -> bytes:
        """A TDREPORT as ``/dev/tdx_guest`` returns it (its MAC is random: nobody can check it)."""
        c = self.config
        tcb_info = TeeTcbInfo(
            valid=b"\xff" * 8,
            tee_tcb_svn=c.tee_tcb_svn,
            mrseam=c.mrseam,
            mrsignerseam=c.mrsignerseam,
            attributes=c.seam_attributes,
            tee_tcb_svn2=bytes(16),
            reserved=bytes(95),
        )
        td_info = TdInfo(
            attributes=c.td_attributes,
            xfam=c.xfam,
            mrtd=c.mrtd,
            mrconfigid=c.mrconfigid,
            mrowner=c.mrowner,
            mrownerconfig=c.mrownerconfig,
            rtmrs=c.rtmrs,
            servtd_hash=_ZERO48,
            reserved=bytes(64),
        )
        return TdReport(
            report_type=bytes((0x81, 0, 0, 0)),
            reserved1=bytes(12),
            cpu_svn=bytes(c.sgx_components),
            tee_tcb_info_hash=hashlib.sha384(tcb_info.to_bytes()).digest(),
            tee_info_hash=hashlib.sha384(td_info.to_bytes()).digest(),
            report_data=check_report_data(report_data),
            reserved2=bytes(32),
            mac=os.urandom(32),
            tee_tcb_info=tcb_info,
            reserved3=bytes(17),
            td_info=td_info,
        ).to_bytes()

    def _ak_raw(self) -> bytes:
        point = self.pki.attestation_key.public_key().public_bytes(
            Encoding.X962, PublicFormat.UncompressedPoint
        )
        return point[1:]

    def _qe_certification(self) -> CertificationData:
        auth_data = bytes(range(32))
        report = EnclaveReport(
            cpu_svn=bytes(self.config.sgx_components),
            misc_select=0,
            reserved1=bytes(28),
            attributes=bytes.fromhex("1500000000000000e700000000000000"),
            mrenclave=self.qe_mrenclave,
            reserved2=bytes(32),
            mrsigner=self.qe_mrsigner,
            reserved3=bytes(96),
            isv_prod_id=self.config.qe_isv_prod_id,
            isv_svn=self.config.qe_isv_svn,
            reserved4=bytes(60),
            report_data=hashlib.sha256(self._ak_raw() + auth_data).digest() + bytes(32),
        )
        signature = sign_raw(self.pki.pck.key, report.to_bytes())
        qe = QeReportCertificationData.build(
            report, signature, auth_data, CertificationData.pck_chain(self.pki.pck_chain_pem)
        )
        return CertificationData.qe_report(qe)


def _pck_extensions(config: SimulatedTdxConfig) -> PckExtensions:
    return PckExtensions(
        ppid=hashlib.sha256(b"veritee simulated PPID").digest()[:16],
        tcb_components=config.sgx_components,
        pce_svn=config.pce_svn,
        cpu_svn=bytes(config.sgx_components),
        pce_id=config.pce_id,
        fmspc=config.fmspc,
        sgx_type=1,
        dynamic_platform=True,
        cached_keys=True,
        smt_enabled=True,
    )


def _utcnow() -> datetime:
    return datetime.now(UTC)


class SimulatedTdxProvider:
    """The ``simulated-tdx`` evidence provider; its evidence carries signed collateral."""

    name = "simulated-tdx"
    platform: Platform = "tdx"

    def __init__(
        self,
        simulator: SimulatedTdx,
        *,
        clock: Callable[[], datetime] = _utcnow,
        attach_collateral: bool = True,
    ) -> None:
        self.simulator = simulator
        self.clock = clock
        self.attach_collateral = attach_collateral

    def get_evidence(self, report_data: bytes) -> Evidence:
        report_data = check_report_data(report_data)
        collateral = self.simulator.collateral(self.clock()) if self.attach_collateral else {}
        return Evidence(
            platform="tdx",
            report=self.simulator.quote(report_data),
            report_data=report_data,
            provider=self.name,
            collateral=collateral,
        )
