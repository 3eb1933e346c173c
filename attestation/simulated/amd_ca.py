"""A local stand-in for AMD's key hierarchy, kept in a state directory.

On first use it creates, once, an ARK (RSA-4096, self-signed) and an ASK signed by it,
both with RSASSA-PSS SHA-384 (MGF1-SHA-384, 48-byte salt) like AMD's, and a P-384 chip
key from which VCEKs are issued; the first VLEK user adds an ASVK and a VLEK key the
same way. The state directory then holds::

    ark.pem, ask.pem, asvk.pem   public root certificates: ``--roots <state dir>`` loads them
    ark.key, ask.key, asvk.key   private keys (PKCS#8 PEM, mode 0600; never loaded as roots)
    chip.key, vlek.key           the endorsement keys (P-384, mode 0600)

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
from typing import NamedTuple

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


class _Layout(NamedTuple):
    stem: str  # file stem of the intermediate (``ask``: ask.pem, ask.key)
    intermediate_cn: str
    endorsement_stem: str  # file stem of the endorsement key
    leaf_cn: str


_BRANCHES = {
    "vcek": _Layout("ask", "SEV-Simulated", "chip", "SEV-VCEK"),
    "vlek": _Layout("asvk", "SEV-VLEK-Simulated", "vlek", "SEV-VLEK"),
}


@dataclass(frozen=True)
class Branch:
    """An intermediate (ASK or ASVK), its key, and the endorsement key it certifies."""

    kind: str
    intermediate: x509.Certificate
    intermediate_key: rsa.RSAPrivateKey
    endorsement_key: ec.EllipticCurvePrivateKey


@dataclass(frozen=True)
class SimulatedAmdCa:
    """The simulated ARK of one state directory, and its VCEK (and maybe VLEK) branch."""

    state_dir: Path
    ark: x509.Certificate
    branch: Branch

    @classmethod
    def open(cls, state_dir: Path, *, now: datetime, kind: str = "vcek") -> SimulatedAmdCa:
        """Load the hierarchy from ``state_dir`` with the ``kind`` branch (``vcek``/``vlek``),
        creating what is absent there, once."""
        if kind not in _BRANCHES:
            raise ValueError(f"kind must be one of {sorted(_BRANCHES)}")
        state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        with _locked(state_dir):
            if not (state_dir / "ark.pem").is_file():
                _create_ark(state_dir, now)
            ark = x509.load_pem_x509_certificate((state_dir / "ark.pem").read_bytes())
            files = _BRANCHES[kind]
            if not (state_dir / f"{files.stem}.pem").is_file():
                ark_key = _rsa_key(state_dir / "ark.key")
                _create_branch(state_dir, kind, ark, ark_key, now)
            branch = Branch(
                kind=kind,
                intermediate=x509.load_pem_x509_certificate(
                    (state_dir / f"{files.stem}.pem").read_bytes()
                ),
                intermediate_key=_rsa_key(state_dir / f"{files.stem}.key"),
                endorsement_key=_ec_key(state_dir / f"{files.endorsement_stem}.key"),
            )
            return cls(state_dir=state_dir, ark=ark, branch=branch)

    def issue(self, endorsed: EndorsementExtensions, *, now: datetime) -> x509.Certificate:
        """A VCEK or VLEK certificate for the branch's key, carrying ``endorsed``."""
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name(_BRANCHES[self.branch.kind].leaf_cn))
            .issuer_name(self.branch.intermediate.subject)
            .public_key(self.branch.endorsement_key.public_key())
            .serial_number(secrets.randbelow(2**63) + 1)
            .not_valid_before(now - _SKEW)
            .not_valid_after(now + _LEAF_LIFETIME)
        )
        for extension in endorsed.to_extensions():
            builder = builder.add_extension(extension, critical=False)
        return builder.sign(self.branch.intermediate_key, hashes.SHA384(), rsa_padding=PSS)


def _create_ark(state_dir: Path, now: datetime) -> None:
    ark_key = rsa.generate_private_key(public_exponent=65537, key_size=4096)
    ark = _ca_certificate("ARK-Simulated", ark_key, None, ark_key, now)
    _write_private(state_dir / "ark.key", _pem_key(ark_key))
    # The certificate last: its presence marks a complete step.
    _write_public(state_dir / "ark.pem", ark.public_bytes(serialization.Encoding.PEM))


def _create_branch(
    state_dir: Path, kind: str, ark: x509.Certificate, ark_key: rsa.RSAPrivateKey, now: datetime
) -> None:
    files = _BRANCHES[kind]
    key = rsa.generate_private_key(public_exponent=65537, key_size=4096)
    intermediate = _ca_certificate(files.intermediate_cn, key, ark, ark_key, now)
    endorsement_key = ec.generate_private_key(ec.SECP384R1())
    _write_private(state_dir / f"{files.endorsement_stem}.key", _pem_key(endorsement_key))
    _write_private(state_dir / f"{files.stem}.key", _pem_key(key))
    pem = intermediate.public_bytes(serialization.Encoding.PEM)
    _write_public(state_dir / f"{files.stem}.pem", pem)  # last: marks the branch complete


def _rsa_key(path: Path) -> rsa.RSAPrivateKey:
    key = _load_key(path, _stamp(path))
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError(f"{path} does not hold an RSA key")
    return key


def _ec_key(path: Path) -> ec.EllipticCurvePrivateKey:
    key = _load_key(path, _stamp(path))
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ValueError(f"{path} does not hold an EC key")
    return key


def _stamp(path: Path) -> tuple[int, int, int]:
    """Identifies one version of a file, so that a cached key is never stale."""
    stat = path.stat()
    return stat.st_dev, stat.st_ino, stat.st_mtime_ns


@functools.lru_cache(maxsize=16)
def _load_key(path: Path, stamp: tuple[int, int, int]) -> PrivateKeyTypes:
    """Load a private key; cached per file version, as checking an RSA-4096 key is slow."""
    del stamp  # part of the cache key only
    return serialization.load_pem_private_key(path.read_bytes(), password=None)
