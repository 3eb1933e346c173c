"""A local stand-in for AMD's key hierarchy, kept in a state directory.

On first use it creates, once, an ARK (RSA-4096, self-signed) and an ASK signed by it,
both with RSASSA-PSS SHA-384 (MGF1-SHA-384, 48-byte salt) like AMD's, and a P-384 chip
key from which VCEKs are issued. The state directory then holds::

    ark.pem, ask.pem      public root certificates: ``--roots <state dir>`` loads them
    ark.key, ask.key      private keys (PKCS#8 PEM, mode 0600; never loaded as roots)
    chip.key              the simulated chip's endorsement key (P-384, mode 0600)

Nothing here is trusted by a verifier unless it is given these roots explicitly.
"""

from __future__ import annotations

import fcntl
import functools
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.x509.oid import NameOID

from attestation.formats.snp_certs import EndorsementExtensions

PSS = padding.PSS(mgf=padding.MGF1(hashes.SHA384()), salt_length=48)
_ORG = "veritee simulated AMD"
_ROOT_LIFETIME = timedelta(days=25 * 365)
_LEAF_LIFETIME = timedelta(days=7 * 365)
_SKEW = timedelta(days=1)


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "Engineering"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, _ORG),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` created with mode 0600, atomically."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    os.replace(tmp, path)


def _write_public(path: Path, data: bytes) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _pem_key(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _ca_certificate(
    subject: str,
    key: rsa.RSAPrivateKey,
    issuer: x509.Certificate | None,
    issuer_key: rsa.RSAPrivateKey,
    now: datetime,
) -> x509.Certificate:
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer.subject if issuer else _name(subject))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _SKEW)
        .not_valid_after(now + _ROOT_LIFETIME)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    return builder.sign(issuer_key, hashes.SHA384(), rsa_padding=PSS)


@contextmanager
def _locked(state_dir: Path) -> Iterator[None]:
    with open(state_dir / ".lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@dataclass(frozen=True)
class SimulatedAmdCa:
    """The simulated ARK, ASK and chip key of one state directory."""

    state_dir: Path
    ark: x509.Certificate
    ask: x509.Certificate
    ask_key: rsa.RSAPrivateKey
    chip_key: ec.EllipticCurvePrivateKey

    @classmethod
    def open(cls, state_dir: Path, *, now: datetime) -> SimulatedAmdCa:
        """Load the hierarchy from ``state_dir``, creating it there once if absent."""
        state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        with _locked(state_dir):
            if not (state_dir / "ask.pem").is_file():
                cls._create(state_dir, now)
            ask_key = _load_key(state_dir / "ask.key", _stamp(state_dir / "ask.key"))
            chip_key = _load_key(state_dir / "chip.key", _stamp(state_dir / "chip.key"))
            if not isinstance(ask_key, rsa.RSAPrivateKey) or not isinstance(
                chip_key, ec.EllipticCurvePrivateKey
            ):
                raise ValueError(f"{state_dir} holds keys of the wrong type")
            return cls(
                state_dir=state_dir,
                ark=x509.load_pem_x509_certificate((state_dir / "ark.pem").read_bytes()),
                ask=x509.load_pem_x509_certificate((state_dir / "ask.pem").read_bytes()),
                ask_key=ask_key,
                chip_key=chip_key,
            )

    @staticmethod
    def _create(state_dir: Path, now: datetime) -> None:
        ark_key = rsa.generate_private_key(public_exponent=65537, key_size=4096)
        ask_key = rsa.generate_private_key(public_exponent=65537, key_size=4096)
        chip_key = ec.generate_private_key(ec.SECP384R1())
        ark = _ca_certificate("ARK-Simulated", ark_key, None, ark_key, now)
        ask = _ca_certificate("SEV-Simulated", ask_key, ark, ark_key, now)
        _write_private(state_dir / "ark.key", _pem_key(ark_key))
        _write_private(state_dir / "ask.key", _pem_key(ask_key))
        _write_private(state_dir / "chip.key", _pem_key(chip_key))
        _write_public(state_dir / "ark.pem", ark.public_bytes(serialization.Encoding.PEM))
        # ask.pem last: its presence marks a complete hierarchy.
        _write_public(state_dir / "ask.pem", ask.public_bytes(serialization.Encoding.PEM))

    def issue_vcek(self, endorsed: EndorsementExtensions, *, now: datetime) -> x509.Certificate:
        """A VCEK certificate for the chip key carrying ``endorsed`` as AMD extensions."""
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name("SEV-VCEK"))
            .issuer_name(self.ask.subject)
            .public_key(self.chip_key.public_key())
            .serial_number(secrets.randbelow(2**63) + 1)
            .not_valid_before(now - _SKEW)
            .not_valid_after(now + _LEAF_LIFETIME)
        )
        for extension in endorsed.to_extensions():
            builder = builder.add_extension(extension, critical=False)
        return builder.sign(self.ask_key, hashes.SHA384(), rsa_padding=PSS)


def _stamp(path: Path) -> tuple[int, int, int]:
    """Identifies one version of a file, so that a cached key is never stale."""
    stat = path.stat()
    return stat.st_dev, stat.st_ino, stat.st_mtime_ns


@functools.lru_cache(maxsize=16)
def _load_key(path: Path, stamp: tuple[int, int, int]) -> PrivateKeyTypes:
    """Load a private key; cached per file version, as checking an RSA-4096 key is slow."""
    del stamp  # part of the cache key only
    return serialization.load_pem_private_key(path.read_bytes(), password=None)
