"""TLS for the simulator: a self-signed CA and leaf for 127.0.0.1/localhost, or given files.

``self_signed(directory)`` writes ``ca.pem`` (the CA to trust), ``cert.pem`` (the leaf)
and ``key.pem`` (the leaf's key, mode 0600), all P-256, and reuses them when they are
already there and the leaf is valid for at least another day. ``spki_sha256`` is the
SHA-256 of the leaf's DER SubjectPublicKeyInfo, the value the enclave records in receipts.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import os
import ssl
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

HOSTS = ("127.0.0.1", "::1", "localhost")
_LIFETIME = dt.timedelta(days=365)


@dataclass(frozen=True)
class TlsFiles:
    """A PEM leaf certificate (first in ``cert``), its key, and the CA that issued it."""

    cert: Path
    key: Path
    ca: Path | None = None

    @property
    def spki_sha256(self) -> str:
        """Hex SHA-256 of the leaf's DER SubjectPublicKeyInfo."""
        leaf = x509.load_pem_x509_certificate(self.cert.read_bytes())
        return spki_sha256(leaf)

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, self.key)
        context.set_alpn_protocols(["http/1.1"])
        return context


def spki_sha256(cert: x509.Certificate) -> str:
    der = cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(der).hexdigest()


def self_signed(directory: Path, *, now: dt.datetime | None = None) -> TlsFiles:
    """A CA and a leaf for :data:`HOSTS` in ``directory`` (reused while still valid)."""
    now = now or dt.datetime.now(dt.UTC)
    files = TlsFiles(directory / "cert.pem", directory / "key.pem", directory / "ca.pem")
    if _reusable(files, now):
        return files
    directory.mkdir(parents=True, exist_ok=True)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "veritee upstream-sim CA")])
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca = (
        _builder(ca_name, ca_name, ca_key.public_key(), now)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(cert_sign=True), critical=True)
        .add_extension(ca_ski, critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    names: list[x509.GeneralName] = [x509.DNSName("localhost")]
    names += [x509.IPAddress(ipaddress.ip_address(h)) for h in HOSTS if h != "localhost"]
    leaf = (
        _builder(leaf_name, ca_name, leaf_key.public_key(), now)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(cert_sign=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(leaf_key.public_key()), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    key_pem = leaf_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    fd = os.open(files.key, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key_pem)
    files.cert.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    assert files.ca is not None
    files.ca.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    return files


def _builder(
    subject: x509.Name, issuer: x509.Name, key: ec.EllipticCurvePublicKey, now: dt.datetime
) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + _LIFETIME)
    )


def _key_usage(*, cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not cert_sign,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


def _reusable(files: TlsFiles, now: dt.datetime) -> bool:
    if not (files.cert.is_file() and files.key.is_file() and files.ca and files.ca.is_file()):
        return False
    try:
        leaf = x509.load_pem_x509_certificate(files.cert.read_bytes())
    except ValueError:
        return False
    return leaf.not_valid_after_utc > now + dt.timedelta(days=1)
