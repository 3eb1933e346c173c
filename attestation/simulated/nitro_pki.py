"""A local stand-in for the AWS Nitro attestation PKI.

AWS issues ``root (30 years) -> regional (~20 days) -> zonal (~5 days) -> instance
(~1 day) -> leaf (~3 hours)``, all ECDSA P-384 with SHA-384, and every document carries
``cabundle = [root, regional, zonal, instance]`` and the leaf as ``certificate``.
:class:`NitroPki` issues the same shape of chain from a root it generates itself.

Only the root is persistent: its key and certificate live in a state directory, created
once, and the certificate is also written to ``<state_dir>/roots/`` so that a verifier
can be pointed at it with ``--roots``. The intermediates and the leaf are issued in
memory and reissued whenever the clock leaves their validity window.

This is a simulator's CA, not an enclave key: writing its key to disk is deliberate.
"""

from __future__ import annotations

import os
import secrets
import tempfile
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from attestation.errors import ProviderError

ROOT_LIFETIME = timedelta(days=30 * 365)
ROOT_BACKDATE = timedelta(days=365)
ROOT_CERT_FILE = "simulated-nitro-root.pem"
_STATE_SUBDIR = "nitro"
_ROOT_KEY_FILE = "root-key.pem"
_ROOT_FILE = "root.pem"
# Names shaped like AWS's, and marked as simulated (a CN is at most 64 characters).
ZONE = "sim-1"
DOMAIN = "veritee-sim.nitro-enclaves"


@dataclass(frozen=True)
class Level:
    """One tier below the root: its lifetime and ``pathLenConstraint`` (None: a leaf)."""

    name: str
    lifetime: timedelta
    path_length: int | None


LEVELS = (
    Level("regional", timedelta(days=20), 2),
    Level("zonal", timedelta(days=5), 1),
    Level("instance", timedelta(days=1), 0),
    Level("leaf", timedelta(hours=3), None),
)


@dataclass(frozen=True)
class Issued:
    """A certificate and its private key."""

    certificate: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    def der(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.DER)

    def covers(self, moment: datetime) -> bool:
        cert = self.certificate
        return cert.not_valid_before_utc <= moment < cert.not_valid_after_utc


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "veritee simulator"),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "simulated-nitro"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _key_usage(*, ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=not ca,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


def issue(
    common_name: str,
    *,
    not_before: datetime,
    lifetime: timedelta,
    path_length: int | None,
    issuer: Issued | None,
) -> Issued:
    """Issue a P-384 certificate (a CA unless ``path_length`` is None); self-signed root
    when ``issuer`` is None."""
    key = ec.generate_private_key(ec.SECP384R1())
    ca = issuer is None or path_length is not None
    subject = _name(common_name)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject if issuer is None else issuer.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before.replace(microsecond=0))
        .not_valid_after(not_before.replace(microsecond=0) + lifetime)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=path_length), critical=True)
        .add_extension(_key_usage(ca=ca), critical=ca)
    )
    if ca:
        builder = builder.add_extension(
            x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
        )
    if issuer is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()),
            critical=False,
        )
    signer = key if issuer is None else issuer.key
    return Issued(builder.sign(signer, hashes.SHA384()), key)


class NitroPki:
    """A root and the AWS-shaped chain below it, reissued as the clock moves on."""

    def __init__(self, root: Issued) -> None:
        self.root = root
        self.instance_id = secrets.token_hex(8)
        self.enclave_id = secrets.token_hex(8)
        self._names = {
            "regional": f"{secrets.token_hex(8)}.{ZONE}.{DOMAIN}",
            "zonal": f"{secrets.token_hex(8)}.zonal.{ZONE}.{DOMAIN}",
            "instance": f"i-{self.instance_id}.{ZONE}.{DOMAIN}",
            "leaf": f"{self.module_id}.{ZONE}.veritee-sim",
        }
        self._chain: list[Issued] = []
        self._lock = threading.Lock()

    @property
    def module_id(self) -> str:
        """The NSM module id, shaped like AWS's ``i-<instance>-enc<enclave>``."""
        return f"i-{self.instance_id}-enc{self.enclave_id}"

    @classmethod
    def generate(cls, now: datetime) -> NitroPki:
        """A fresh root valid from a year before ``now`` for 30 years, in memory only."""
        return cls(
            issue(
                DOMAIN,
                not_before=now - ROOT_BACKDATE,
                lifetime=ROOT_LIFETIME,
                path_length=None,
                issuer=None,
            )
        )

    @classmethod
    def load_or_create(cls, state_dir: Path, now: datetime) -> NitroPki:
        """The root kept in ``state_dir``, created there (atomically) on first use."""
        home = state_dir / _STATE_SUBDIR
        if not home.is_dir():
            _create(cls.generate(now).root, state_dir, home)
        pki = cls(_load(home))
        _publish_root(pki.root, state_dir / "roots")
        return pki

    @property
    def root_certificate(self) -> x509.Certificate:
        return self.root.certificate

    def chain_at(self, now: datetime) -> tuple[Issued, tuple[bytes, ...]]:
        """The leaf valid at ``now`` and the ``cabundle`` (root first) above it.

        A tier is reissued when ``now`` is outside its window, and so is every tier below.
        """
        with self._lock:
            issuer = self.root
            chain: list[Issued] = []
            reissued = False
            for depth, level in enumerate(LEVELS):
                current = self._chain[depth] if depth < len(self._chain) else None
                if current is None or reissued or not current.covers(now):
                    current = issue(
                        self._names[level.name],
                        not_before=now,
                        lifetime=level.lifetime,
                        path_length=level.path_length,
                        issuer=issuer,
                    )
                    reissued = True
                chain.append(current)
                issuer = current
            self._chain = chain
        return chain[-1], (self.root.der(), *(c.der() for c in chain[:-1]))


def _pem(issued: Issued) -> tuple[bytes, bytes]:
    key = issued.key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return key, issued.certificate.public_bytes(serialization.Encoding.PEM)


def _create(root: Issued, state_dir: Path, home: Path) -> None:
    state_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".nitro-", dir=state_dir))
    key_pem, cert_pem = _pem(root)
    fd = os.open(staging / _ROOT_KEY_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(key_pem)
    (staging / _ROOT_FILE).write_bytes(cert_pem)
    try:
        staging.rename(home)
    except OSError:
        # Another process created it first: keep theirs.
        for file in staging.iterdir():
            file.unlink()
        staging.rmdir()
        if not home.is_dir():
            raise


def _load(home: Path) -> Issued:
    try:
        key = serialization.load_pem_private_key((home / _ROOT_KEY_FILE).read_bytes(), None)
        cert = x509.load_pem_x509_certificate((home / _ROOT_FILE).read_bytes())
    except (OSError, ValueError, TypeError) as exc:
        raise ProviderError(f"the simulated Nitro root in {home} is unreadable: {exc}") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.public_key() != cert.public_key():
        raise ProviderError(f"the simulated Nitro root in {home}: key and certificate differ")
    return Issued(cert, key)


def _publish_root(root: Issued, roots_dir: Path) -> None:
    """Write the root certificate where ``--roots`` can find it (atomic replace)."""
    roots_dir.mkdir(parents=True, exist_ok=True)
    target = roots_dir / ROOT_CERT_FILE
    pem = _pem(root)[1]
    if target.is_file() and target.read_bytes() == pem:
        return
    fd, temporary = tempfile.mkstemp(prefix=".root-", dir=roots_dir)
    with os.fdopen(fd, "wb") as out:
        out.write(pem)
    os.replace(temporary, target)
