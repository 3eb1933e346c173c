"""``simulated-sev-snp``: byte-exact SEV-SNP reports signed by a local AMD stand-in.

The provider plays one guest on one simulated chip. Its reports have the real layout
(:class:`attestation.formats.snp.SnpReport`) and are signed by a VCEK that a local ARK
and ASK certify (:mod:`attestation.simulated.amd_ca`); a verifier accepts them only
when given the simulator's roots (``provider.roots_dir``), never AMD's.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from attestation.evidence import Evidence, Platform, check_report_data
from attestation.formats.snp import (
    SIGNATURE_ALGO_ECDSA_P384_SHA384,
    VERSIONS,
    FirmwareVersion,
    SigningKey,
    SnpReport,
)
from attestation.formats.snp_certs import HWID_SIZES, EndorsementExtensions
from attestation.formats.snp_tcb import Product, TcbVersion, layout
from attestation.simulated.amd_ca import SimulatedAmdCa

# CPUID family, model, stepping that each product reports (version 3 and later).
CPUID: dict[Product, tuple[int, int, int]] = {
    "milan": (0x19, 0x01, 1),
    "genoa": (0x19, 0x11, 1),
    "turin": (0x1A, 0x02, 0),
}
VCEK_PRODUCT_NAMES: dict[Product, str] = {
    "milan": "Milan-B0",
    "genoa": "Genoa-B1",
    "turin": "Turin-B0",
}
DEFAULT_TCB: dict[Product, TcbVersion] = {
    "milan": TcbVersion("milan", bootloader=4, tee=0, snp=22, microcode=213),
    "genoa": TcbVersion("genoa", bootloader=9, tee=0, snp=23, microcode=72),
    "turin": TcbVersion("turin", bootloader=1, tee=1, snp=3, microcode=2, fmc=1),
}
DEFAULT_POLICY = 0x30000  # SMT allowed, reserved bit 17; no debug, no migration agent
FIRMWARE = FirmwareVersion(major=1, minor=55, build=43)


class SimulatedSnpProvider:
    """Evidence from a simulated SEV-SNP guest. Everything but ``state_dir`` is optional.

    - ``measurement`` (48 bytes), ``policy``, ``vmpl``, ``guest_svn``, ``host_data``,
      ``family_id``, ``image_id``: the guest as launched.
    - ``product`` and ``tcb``: the chip and the firmware level its VCEK certifies.
    - ``chip_id``: defaults to a value derived from the chip key (8 significant bytes on
      Turin, the rest zero). ``mask_chip_id`` plays a host that sets MASK_CHIP_KEY: the
      report's CHIP_ID is then zero.
    - ``version``: report version (2, 3, 4 or 5; 5 by default).
    - ``signer``: ``vcek`` (default) or ``vlek``, a key the simulated AMD issued to the
      cloud provider ``csp_id`` through an ASVK.
    - ``now``: the time certificates are issued at (default: the current time).
    """

    name = "simulated-sev-snp"
    platform: Platform = "sev-snp"

    def __init__(
        self,
        state_dir: Path,
        *,
        product: Product = "milan",
        measurement: bytes = bytes(48),
        policy: int = DEFAULT_POLICY,
        tcb: TcbVersion | None = None,
        vmpl: int = 0,
        chip_id: bytes | None = None,
        mask_chip_id: bool = False,
        version: int = 5,
        signer: Literal["vcek", "vlek"] = "vcek",
        csp_id: str = "veritee-simulated-csp",
        guest_svn: int = 0,
        host_data: bytes = bytes(32),
        family_id: bytes = bytes(16),
        image_id: bytes = bytes(16),
        now: datetime | None = None,
    ) -> None:
        if version not in VERSIONS:
            raise ValueError(f"report version must be one of {sorted(VERSIONS)}")
        tcb = tcb or DEFAULT_TCB[product]
        if tcb.product != product:
            raise ValueError(f"the TCB is laid out for {tcb.product}, not {product}")
        now = now or datetime.now(UTC)
        self._ca = SimulatedAmdCa.open(Path(state_dir), now=now, kind=signer)
        self.product = product
        self.tcb = tcb
        self.signer = signer
        hwid = self._default_hwid() if chip_id is None else chip_id[: HWID_SIZES[product]]
        self.chip_id = chip_id if chip_id is not None else hwid.ljust(64, b"\x00")
        self.certificate = self._ca.issue(
            EndorsementExtensions(
                struct_version=0,
                product_name=VCEK_PRODUCT_NAMES[product],
                spls=_spls(tcb),
                hwid=hwid if signer == "vcek" else None,
                csp_id=csp_id if signer == "vlek" else None,
            ),
            now=now,
        )
        cpuid = CPUID[product] if version >= 3 else (None, None, None)
        mit = 0 if version >= 5 else None
        # A template: every report of this guest differs only in REPORT_DATA and signature.
        self._template = SnpReport(
            version=version,
            guest_svn=guest_svn,
            policy=policy,
            family_id=family_id,
            image_id=image_id,
            vmpl=vmpl,
            signature_algo=SIGNATURE_ALGO_ECDSA_P384_SHA384,
            current_tcb=tcb.raw(),
            platform_info=0x1,
            author_key_en=False,
            mask_chip_key=mask_chip_id,
            signing_key=SigningKey.VCEK if signer == "vcek" else SigningKey.VLEK,
            report_data=bytes(64),
            measurement=measurement,
            host_data=host_data,
            id_key_digest=bytes(48),
            author_key_digest=bytes(48),
            report_id=secrets.token_bytes(32),
            report_id_ma=b"\xff" * 32,
            reported_tcb=tcb.raw(),
            cpuid_fam_id=cpuid[0],
            cpuid_mod_id=cpuid[1],
            cpuid_step=cpuid[2],
            chip_id=bytes(64) if mask_chip_id else self.chip_id,
            committed_tcb=tcb.raw(),
            current_version=FIRMWARE,
            committed_version=FIRMWARE,
            launch_tcb=tcb.raw(),
            launch_mit_vector=mit,
            current_mit_vector=mit,
            signature_r=0,
            signature_s=0,
        )

    @property
    def roots_dir(self) -> Path:
        """The directory whose ``*.pem`` files are this simulator's roots (ARK, ASK)."""
        return self._ca.state_dir

    @property
    def certificate_der(self) -> bytes:
        """The VCEK (or VLEK) certificate, DER."""
        return self.certificate.public_bytes(serialization.Encoding.DER)

    def chain_der(self) -> dict[str, bytes]:
        """The certificates a host hands out with the report, by role (GHCB table roles)."""
        return {
            self.signer: self.certificate_der,
            "ask": self._ca.branch.intermediate.public_bytes(serialization.Encoding.DER),
            "ark": self._ca.ark.public_bytes(serialization.Encoding.DER),
        }

    def _default_hwid(self) -> bytes:
        point = self._ca.branch.endorsement_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return hashlib.sha512(b"veritee simulated chip id" + point).digest()[
            : HWID_SIZES[self.product]
        ]

    def report(self, report_data: bytes, *, vmpl: int | None = None) -> SnpReport:
        """A signed report binding ``report_data`` (64 bytes), at ``vmpl`` if given."""
        return self.sign(
            replace(
                self._template,
                report_data=check_report_data(report_data),
                vmpl=self._template.vmpl if vmpl is None else vmpl,
            )
        )

    def sign(self, report: SnpReport) -> SnpReport:
        """``report`` with a signature by this guest's VCEK (or VLEK), whatever it says."""
        key = self._ca.branch.endorsement_key
        der = key.sign(report.signed_bytes(), ec.ECDSA(hashes.SHA384()))
        r, s = decode_dss_signature(der)
        return replace(report, signature_r=r, signature_s=s)

    def get_evidence(self, report_data: bytes) -> Evidence:
        report = self.report(report_data)
        return Evidence(
            platform="sev-snp",
            report=report.to_bytes(),
            report_data=report.report_data,
            provider=self.name,
            certificates={self.signer: self.certificate_der},
        )


def _spls(tcb: TcbVersion) -> dict[str, int]:
    """The SPL extensions of a VCEK for ``tcb``: every byte of its layout, by name."""
    raw = tcb.raw()
    return {name: (raw >> (8 * index)) & 0xFF for name, index in layout(tcb.product).items()}
