"""The simulated Intel PKI: a local "SGX Root CA", a PCK Platform CA, a PCK leaf carrying
SGX extensions, and a TCB Signing certificate, all P-256, kept in a state directory.

The private keys are fake vendor keys for local testing and demos; a verifier trusts
their root only when it is handed ``<state>/roots/simulated-sgx-root-ca.pem`` explicitly.

State layout::

    <state>/roots/simulated-sgx-root-ca.pem     the anchor, for ``--roots <state>/roots``
    <state>/tdx/<name>.pem / <name>.key.pem     root-ca, pck-ca, pck, tcb-signing
    <state>/tdx/attestation-key.pem             the simulated QE's attestation key
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from attestation.formats.tdx import SGX_EXTENSIONS_OID, PckExtensions

ROOT_FILE = "simulated-sgx-root-ca.pem"
_ORG = "veritee simulator"
NAMES = {
    "root-ca": "Veritee Simulated SGX Root CA",
    "pck-ca": "Veritee Simulated SGX PCK Platform CA",
    "pck": "Veritee Simulated SGX PCK Certificate",
    "tcb-signing": "Veritee Simulated SGX TCB Signing",
}


@dataclass(frozen=True)
class Issued:
    """A certificate and its private key."""

    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    @property
    def pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)


@dataclass(frozen=True)
class SimulatedPki:
    root: Issued
    pck_ca: Issued
    pck: Issued
    tcb_signing: Issued
    attestation_key: ec.EllipticCurvePrivateKey

    @property
    def pck_chain_pem(self) -> bytes:
        """Leaf, intermediate, root: what a quote's type-5 certification data carries."""
        return self.pck.pem + self.pck_ca.pem + self.root.pem

    @property
    def tcb_chain_pem(self) -> bytes:
        return self.tcb_signing.pem + self.root.pem

    @property
    def pck_ca_chain_pem(self) -> bytes:
        return self.pck_ca.pem + self.root.pem

    @classmethod
    def create(cls, extensions: PckExtensions, now: datetime) -> SimulatedPki:
        start = now - timedelta(days=1)
        root = _issue("root-ca", None, start, start + timedelta(days=365 * 30), ca_path=1)
        pck_ca = _issue("pck-ca", root, start, start + timedelta(days=365 * 15), ca_path=0)
        pck = _issue("pck", pck_ca, start, start + timedelta(days=365 * 7), extensions=extensions)
        tcb = _issue("tcb-signing", root, start, start + timedelta(days=365 * 7))
        return cls(root, pck_ca, pck, tcb, ec.generate_private_key(ec.SECP256R1()))

    def save_once(self, state: Path) -> SimulatedPki:
        """Keep this PKI in ``state`` unless one is there already; return the one kept.

        The files are written to a staging directory that is renamed into place, so
        concurrent first starts agree on one PKI and no reader sees half of one.
        """
        state.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".tdx-", dir=state))
        for name, issued in self._issued().items():
            (staging / f"{name}.pem").write_bytes(issued.pem)
            _write_key(staging / f"{name}.key.pem", issued.key)
        _write_key(staging / "attestation-key.pem", self.attestation_key)
        try:
            staging.rename(state / "tdx")
            kept = self
        except OSError:  # another process got there first: use its PKI
            shutil.rmtree(staging, ignore_errors=True)
            kept = SimulatedPki.load(state)
        roots = state / "roots"
        roots.mkdir(exist_ok=True)
        (roots / ROOT_FILE).write_bytes(kept.root.pem)
        return kept

    @classmethod
    def load(cls, state: Path) -> SimulatedPki:
        tdx = state / "tdx"

        def issued(name: str) -> Issued:
            cert = x509.load_pem_x509_certificate((tdx / f"{name}.pem").read_bytes())
            return Issued(cert, _read_key(tdx / f"{name}.key.pem"))

        return cls(
            issued("root-ca"),
            issued("pck-ca"),
            issued("pck"),
            issued("tcb-signing"),
            _read_key(tdx / "attestation-key.pem"),
        )

    def _issued(self) -> dict[str, Issued]:
        return {
            "root-ca": self.root,
            "pck-ca": self.pck_ca,
            "pck": self.pck,
            "tcb-signing": self.tcb_signing,
        }


def _name(role: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, NAMES[role]),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, _ORG),
        ]
    )


def _issue(
    role: str,
    issuer: Issued | None,
    not_before: datetime,
    not_after: datetime,
    *,
    ca_path: int | None = None,
    extensions: PckExtensions | None = None,
) -> Issued:
    key = ec.generate_private_key(ec.SECP256R1())
    is_ca = ca_path is not None
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(role))
        .issuer_name(issuer.cert.subject if issuer else _name(role))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=is_ca, path_length=ca_path), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=not is_ca,
                content_commitment=not is_ca,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=is_ca,
                crl_sign=is_ca,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    if issuer is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()),
            critical=False,
        )
    if extensions is not None:
        builder = builder.add_extension(
            x509.UnrecognizedExtension(
                x509.ObjectIdentifier(SGX_EXTENSIONS_OID), extensions.to_der()
            ),
            critical=False,
        )
    signer = issuer.key if issuer else key
    return Issued(builder.sign(signer, hashes.SHA256()), key)


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    data = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def _read_key(path: Path) -> ec.EllipticCurvePrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ValueError(f"{path} is not an EC private key")
    return key
