"""``simulated-vtpm``: real vTPM evidence from an in-memory TPM, its AK certified locally.

A GCP-style setup on a :class:`SoftwareTpm`: an ECC AK template and an AK certificate in
NV, the certificate issued by a local CA kept in ``state_dir`` (``vtpm-ak-ca.pem``, with
its key in ``vtpm-ak-ca.key``). A verifier accepts the evidence only when given that CA,
e.g. ``TrustedRoots.from_paths([state_dir])``. The TPM's keys live in memory: each
provider instance has a new AK, certified anew by the same CA.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from attestation.evidence import Evidence, Platform
from attestation.providers.vtpm.provider import VtpmProvider
from attestation.simulated.vtpm import SoftwareTpm
from attestation.simulated.vtpm_cloud import LocalCa, provision_gcp

CA_CERT = "vtpm-ak-ca.pem"
CA_KEY = "vtpm-ak-ca.key"  # not *.pem: TrustedRoots.from_paths reads every *.pem as a root


def open_local_ca(state_dir: Path, *, now: datetime) -> LocalCa:
    """The CA kept in ``state_dir``, created there on first use."""
    cert_path, key_path = state_dir / CA_CERT, state_dir / CA_KEY
    if cert_path.exists() and key_path.exists():
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise ValueError(f"{key_path} does not hold an EC private key")
        return LocalCa(key, x509.load_pem_x509_certificate(cert_path.read_bytes()))
    state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    ca = LocalCa.create("veritee simulated vTPM AK CA", not_before=now)
    key_path.write_bytes(
        ca.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_path.chmod(0o600)
    cert_path.write_bytes(ca.certificate.public_bytes(serialization.Encoding.PEM))
    return ca


class SimulatedVtpmProvider:
    """The ``simulated-vtpm`` evidence provider (GCP-style AK certificate, local CA)."""

    name = "simulated-vtpm"
    platform: Platform = "vtpm"

    def __init__(self, state_dir: Path, *, now: datetime | None = None) -> None:
        now = now or datetime.now(UTC)
        self.tpm = SoftwareTpm()
        self.ca = open_local_ca(Path(state_dir), now=now)
        provision_gcp(self.tpm, self.ca, kind="ecc", not_before=now)
        self._provider = VtpmProvider(self.tpm, ak="gcp")

    def get_evidence(self, report_data: bytes) -> Evidence:
        evidence = self._provider.get_evidence(report_data)
        return Evidence(
            platform="vtpm",
            report=evidence.report,
            report_data=evidence.report_data,
            provider=self.name,
            certificates=evidence.certificates,
            extra=evidence.extra,
        )
