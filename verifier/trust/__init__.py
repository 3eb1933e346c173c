"""Trusted roots, always passed explicitly to every verification.

A :class:`TrustedRoots` holds *anchors* (self-signed roots: AMD ARKs, the Intel SGX Root
CA, the AWS Nitro root, or a simulator's local roots) and *intermediates* that are
trusted only as far as they chain to an anchor (AMD ASK/ASVK). Nothing is trusted by
default: a verifier given no roots for a platform cannot say "verified".

Roots shipped in this package live beside this module, one DER file each, and are
pinned by SHA-256 in ``SHIPPED``: a file whose hash differs is refused at load.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from attestation.errors import MalformedEvidence
from attestation.formats.pki import load_der_certificate, load_pem_certificates
from verifier.errors import BadInput
from verifier.trust.amd import AMD_ROOTS

# name -> (file names, in this package, with the SHA-256 of each file's DER bytes)
SHIPPED: dict[str, tuple[tuple[str, str], ...]] = {
    # AWS Nitro Enclaves root G1 (P-384), valid 2019-10-28 to 2049-10-28.
    "aws-nitro": (
        (
            "aws_nitro_root_g1.der",
            "641a0321a3e244efe456463195d606317ed7cdcc3c1756e09893f3c68f79bb5b",
        ),
    ),
    # AMD SEV-SNP: ARK + ASK (VCEK chains) and ARK + ASVK (VLEK chains) per product.
    **AMD_ROOTS,
    # Intel SGX Root CA (P-256), valid 2018-05-21 to 2049-12-31: roots PCK and TCB Signing.
    "intel-sgx": (
        (
            "intel_sgx_root_ca.der",
            "44a0196b2b99f889b8e149e95b807a350e7424964399e885a7cbb8ccfab674d3",
        ),
    ),
}


def certificate_sha256(cert: x509.Certificate) -> str:
    return hashlib.sha256(cert.public_bytes(Encoding.DER)).hexdigest()


def _is_self_signed(cert: x509.Certificate) -> bool:
    return cert.issuer == cert.subject


def load_certificates(data: bytes, source: str = "input") -> list[x509.Certificate]:
    """Parse one DER certificate or any number of PEM certificates; raise BadInput.

    Every part of every certificate is parsed now (:mod:`attestation.formats.pki`).
    """
    try:
        if b"-----BEGIN CERTIFICATE-----" in data:
            return load_pem_certificates(data, source)
        return [load_der_certificate(data, source)]
    except MalformedEvidence as exc:
        raise BadInput("roots", f"{source} is not a PEM or DER certificate: {exc}") from None


@dataclass(frozen=True)
class TrustedRoots:
    anchors: tuple[x509.Certificate, ...] = ()
    intermediates: tuple[x509.Certificate, ...] = ()

    @classmethod
    def from_certificates(cls, certs: Iterable[x509.Certificate]) -> TrustedRoots:
        anchors: list[x509.Certificate] = []
        intermediates: list[x509.Certificate] = []
        for cert in certs:
            (anchors if _is_self_signed(cert) else intermediates).append(cert)
        return cls(tuple(anchors), tuple(intermediates))

    @classmethod
    def from_paths(cls, paths: Sequence[Path]) -> TrustedRoots:
        """Load PEM/DER files, or every ``*.pem``/``*.der``/``*.crt`` under given directories."""
        certs: list[x509.Certificate] = []
        for path in paths:
            files = (
                sorted(p for p in path.rglob("*") if p.suffix in {".pem", ".der", ".crt"})
                if path.is_dir()
                else [path]
            )
            for file in files:
                data = file.read_bytes()
                if path.is_dir() and file.suffix == ".pem" and b"CERTIFICATE-----" not in data:
                    continue  # a key or other PEM beside the roots (simulator state dirs)
                certs.extend(load_certificates(data, str(file)))
        if not certs:
            raise BadInput("roots", f"no certificates found in {', '.join(map(str, paths))}")
        return cls.from_certificates(certs)

    @classmethod
    def shipped(cls, *names: str) -> TrustedRoots:
        """Roots shipped with veritee, by name (see ``SHIPPED``), each checked against its pin."""
        certs: list[x509.Certificate] = []
        for name in names:
            if name not in SHIPPED:
                raise BadInput("roots", f"no shipped roots named {name!r}; have {sorted(SHIPPED)}")
            for filename, pin in SHIPPED[name]:
                data = resources.files(__package__).joinpath(filename).read_bytes()
                if hashlib.sha256(data).hexdigest() != pin:
                    raise BadInput("roots", f"shipped root {filename} does not match its pin")
                certs.extend(load_certificates(data, filename))
        return cls.from_certificates(certs)

    def __add__(self, other: TrustedRoots) -> TrustedRoots:
        return TrustedRoots(self.anchors + other.anchors, self.intermediates + other.intermediates)

    def __bool__(self) -> bool:
        return bool(self.anchors)
