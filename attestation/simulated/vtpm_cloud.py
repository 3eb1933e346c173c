"""Emulate what Azure and Google Cloud provision in a vTPM, with locally generated roots.

Works on any :class:`Provisionable` TPM: the in-memory :class:`SoftwareTpm` or swtpm
through :class:`~attestation.providers.vtpm.tss.TssTpm`.

- :func:`provision_gcp`: an AK template in NV (ECC ``0x01C10003`` or RSA ``0x01C10001``),
  the primary key it makes in the endorsement hierarchy certified by a :class:`LocalCa`,
  the certificate beside it (``0x01C10002`` / ``0x01C10000``).
- :func:`provision_azure`: an RSA AK persisted at ``0x81000003`` and an HCL report in NV
  ``0x01400001`` whose runtime data carries the AK's JWK and whose hardware report binds
  ``sha256(runtime data)``. The hardware report comes from a callable (a simulated SNP
  signer), so this module does not depend on any hardware format.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

import orjson
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from attestation.formats.hcl import AK_KEY_ID, HARDWARE_AREA_SIZE, HardwareReportType, HclReport
from attestation.formats.tpm import Alg, EccCurve, EccKey, RsaKey, Scheme, TpmPublic
from attestation.formats.tpm.constants import TPM_RH_ENDORSEMENT, TPM_RH_OWNER
from attestation.formats.tpm.keys import public_key
from attestation.providers.vtpm.device import LoadedKey, TpmDevice
from attestation.providers.vtpm.profiles import (
    AZURE_AK_HANDLE,
    AZURE_HCL_NV_INDEX,
    GCP_AK_CERT_NV_INDEX_ECC,
    GCP_AK_CERT_NV_INDEX_RSA,
    GCP_AK_TEMPLATE_NV_INDEX_ECC,
    GCP_AK_TEMPLATE_NV_INDEX_RSA,
    LOCAL_AK_ATTRIBUTES,
)

# report_data (64 bytes) -> a signed hardware report (SNP: 1184 bytes) carrying it
HardwareSigner = Callable[[bytes], bytes]


class Provisionable(TpmDevice, Protocol):
    """A TPM that a cloud can provision: write NV indices and persist keys."""

    def nv_define(self, index: int, data: bytes) -> None: ...

    def persist(self, key: LoadedKey, handle: int) -> LoadedKey: ...


@dataclass(frozen=True)
class LocalCa:
    """A self-signed ECDSA P-256 root that issues AK certificates, standing in for a cloud CA."""

    key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate

    @classmethod
    def create(cls, name: str, *, not_before: datetime, days: int = 3650) -> LocalCa:
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        cert = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before)
            .not_valid_after(not_before + timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(False, False, False, False, False, True, True, False, False), True
            )
            .sign(key, hashes.SHA256())
        )
        return cls(key, cert)

    @property
    def der(self) -> bytes:
        return self.certificate.public_bytes(Encoding.DER)

    def issue_ak_certificate(
        self, ak: TpmPublic, *, not_before: datetime, days: int = 365, name: str = "vTPM AK"
    ) -> bytes:
        """A DER end-entity certificate for the AK's public key."""
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
            .issuer_name(self.certificate.subject)
            .public_key(public_key(ak))
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before)
            .not_valid_after(not_before + timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .sign(self.key, hashes.SHA256())
        )
        return cert.public_bytes(Encoding.DER)


def ak_template(kind: str) -> bytes:
    """A cloud-style AK template: ``ecc`` (P-256, ECDSA-SHA256) or ``rsa`` (2048, RSASSA)."""
    if kind == "ecc":
        key: EccKey | RsaKey = EccKey(EccCurve.NIST_P256, b"", b"")
        scheme = Scheme(Alg.ECDSA, Alg.SHA256)
    elif kind == "rsa":
        key, scheme = RsaKey(2048, 0, b""), Scheme(Alg.RSASSA, Alg.SHA256)
    else:
        raise ValueError(f"kind must be 'ecc' or 'rsa', not {kind!r}")
    return TpmPublic(Alg.SHA256, LOCAL_AK_ATTRIBUTES, key, scheme).to_bytes()


def provision_gcp(tpm: Provisionable, ca: LocalCa, *, kind: str, not_before: datetime) -> bytes:
    """Provision a GCP-style AK; return its certificate (DER)."""
    template_index, cert_index = {
        "ecc": (GCP_AK_TEMPLATE_NV_INDEX_ECC, GCP_AK_CERT_NV_INDEX_ECC),
        "rsa": (GCP_AK_TEMPLATE_NV_INDEX_RSA, GCP_AK_CERT_NV_INDEX_RSA),
    }[kind]
    template = ak_template(kind)
    key = tpm.create_primary(TPM_RH_ENDORSEMENT, template)
    cert = ca.issue_ak_certificate(TpmPublic.from_bytes(key.public), not_before=not_before)
    tpm.flush(key)
    tpm.nv_define(template_index, template)
    tpm.nv_define(cert_index, cert)
    return cert


def runtime_data(ak: TpmPublic, *, user_data: bytes = b"") -> bytes:
    """HCL runtime claims JSON: the AK as an RSA JWK, a VM configuration, user data (hex)."""
    if not isinstance(ak.key, RsaKey):
        raise ValueError("Azure's HCLAkPub is an RSA key")

    def b64(value: bytes) -> str:
        return base64.urlsafe_b64encode(value).rstrip(b"=").decode()

    exponent = ak.key.public_exponent.to_bytes(3, "big")
    claims = {
        "keys": [
            {"kid": AK_KEY_ID, "key_ops": ["sign"], "kty": "RSA", "e": b64(exponent),
             "n": b64(ak.key.modulus)},
        ],
        "vm-configuration": {"console-enabled": False, "secure-boot": True,
                             "tpm-enabled": True, "tpm-persisted": True, "vmUniqueId": "sim"},
        "user-data": user_data.hex(),
    }  # fmt: skip
    return orjson.dumps(claims)


def build_hcl_report(
    hardware_report: bytes, runtime: bytes, report_type: HardwareReportType
) -> HclReport:
    area = hardware_report.ljust(HARDWARE_AREA_SIZE, b"\x00")
    if len(area) != HARDWARE_AREA_SIZE:
        raise ValueError(f"a hardware report is at most {HARDWARE_AREA_SIZE} bytes")
    return HclReport(
        version=2,
        report_size=len(area),
        request_type=2,
        status=0,
        report_type=report_type,
        hash_type=1,
        data_size=20 + len(runtime),
        request_version=1,
        hardware_area=area,
        runtime_data=runtime,
    )


def provision_azure(
    tpm: Provisionable,
    hardware: HardwareSigner,
    *,
    report_type: HardwareReportType = HardwareReportType.SNP,
) -> HclReport:
    """Provision an Azure-style AK and HCL report; ``hardware`` signs the REPORT_DATA."""
    key = tpm.create_primary(TPM_RH_OWNER, ak_template("rsa"))
    tpm.persist(key, AZURE_AK_HANDLE)
    tpm.flush(key)
    runtime = runtime_data(TpmPublic.from_bytes(key.public))
    report_data = hashlib.sha256(runtime).digest() + bytes(32)
    report = build_hcl_report(hardware(report_data), runtime, report_type)
    tpm.nv_define(AZURE_HCL_NV_INDEX, report.to_bytes())
    return report
