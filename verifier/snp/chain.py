"""The AMD certificate chain: ARK (trusted anchor) -> ASK or ASVK -> VCEK or VLEK.

Every link is RSASSA-PSS with SHA-384, MGF1-SHA-384 and a 48-byte salt, as AMD signs;
a certificate signed any other way does not chain. The root must be one of the
caller's anchors; the middle certificate may come from the caller's intermediates or
from the evidence, and is trusted only because an anchor signed it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from attestation.formats.snp_certs import signature_algorithms
from verifier.claims import Check
from verifier.errors import CertificateChainInvalid, CouldNotCheck
from verifier.trust import TrustedRoots, certificate_sha256

_PSS = padding.PSS(mgf=padding.MGF1(hashes.SHA384()), salt_length=48)
# The DER AlgorithmIdentifier of RSASSA-PSS with SHA-384, MGF1-SHA-384 and a 48-byte salt;
# AMD also writes the default trailer field (1) explicitly.
_PSS_SHA384 = "300d06096086480165030402020500"
_PSS_PARAMS = f"a00f{_PSS_SHA384}a11c301a06092a864886f70d010108{_PSS_SHA384}a203020130"
AMD_SIGNATURE_ALGORITHMS = frozenset(
    {
        bytes.fromhex(f"304106092a864886f70d01010a3034{_PSS_PARAMS}"),
        bytes.fromhex(f"304606092a864886f70d01010a3039{_PSS_PARAMS}a303020101"),
    }
)


def common_name(cert: x509.Certificate) -> str:
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    value = names[0].value if names else cert.subject.rfc4514_string()
    return value if isinstance(value, str) else value.decode(errors="replace")


def signed_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    """True if ``issuer``'s RSA key made ``cert``'s RSASSA-PSS SHA-384 signature.

    The algorithm must be AMD's exactly, named identically inside and outside the
    signed part; a certificate loaded with :func:`load_certificate` parses here.
    """
    if cert.issuer != issuer.subject:
        return False
    outer, inner = signature_algorithms(cert)
    if outer != inner or outer not in AMD_SIGNATURE_ALGORITHMS:
        return False
    key = issuer.public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        return False
    try:
        key.verify(cert.signature, cert.tbs_certificate_bytes, _PSS, hashes.SHA384())
    except InvalidSignature:
        return False
    return True


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    except (x509.ExtensionNotFound, ValueError):
        return False
    return constraints.ca


@dataclass(frozen=True)
class AmdChain:
    """A verified chain, root first."""

    ark: x509.Certificate
    ask: x509.Certificate
    leaf: x509.Certificate

    def describe(self, leaf_role: str) -> str:
        return (
            f"{leaf_role} issued by {common_name(self.ask)} ({middle_role(leaf_role)}), issued by "
            f"{common_name(self.ark)}, a trusted root (SHA-256 {certificate_sha256(self.ark)})"
        )


def middle_role(leaf_role: str) -> str:
    """AMD signs VCEKs with an ASK and VLEKs with an ASVK."""
    return "ASVK" if leaf_role == "VLEK" else "ASK"


def verify_amd_chain(
    leaf: x509.Certificate,
    *,
    roots: TrustedRoots,
    candidates: Iterable[x509.Certificate] = (),
    leaf_role: str = "VCEK",
) -> AmdChain:
    """Find ARK -> AS(V)K -> ``leaf`` with the ARK among ``roots.anchors``; raise if none."""
    check = f"snp.{leaf_role.lower()}-chain"
    if not roots.anchors:
        raise CouldNotCheck(
            check, "no trusted roots were given: pass AMD's roots (or a simulator's) explicitly"
        )
    middles = [c for c in (*roots.intermediates, *candidates) if c.subject == leaf.issuer]
    for ask in middles:
        if not signed_by(leaf, ask):
            continue
        for ark in roots.anchors:
            if _is_ca(ask) and signed_by(ask, ark) and signed_by(ark, ark):
                return AmdChain(ark=ark, ask=ask, leaf=leaf)
    issuer = leaf.issuer.rfc4514_string()
    if not middles:
        trusted = ", ".join(sorted({common_name(c) for c in roots.intermediates})) or "none"
        raise CertificateChainInvalid(
            check,
            f"the {leaf_role} certificate was issued by '{issuer}', which is not among the "
            f"trusted AMD signing keys ({trusted}); the roots given are for another product "
            "or another platform",
        )
    raise CertificateChainInvalid(
        check,
        f"the {leaf_role} certificate does not chain to a trusted AMD root: no trusted "
        f"signing key named '{issuer}' made its signature with RSASSA-PSS SHA-384, "
        "or that key was not itself signed by a trusted root",
    )


def check_validity(chain: AmdChain, leaf_role: str, now: datetime) -> Check:
    """Every certificate of the chain must be valid at ``now``; raise CertificateChainInvalid."""
    middle = middle_role(leaf_role)
    for role, cert in (("ARK", chain.ark), (middle, chain.ask), (leaf_role, chain.leaf)):
        start, end = cert.not_valid_before_utc, cert.not_valid_after_utc
        if now < start:
            raise CertificateChainInvalid(
                "snp.validity",
                f"the {role} certificate '{common_name(cert)}' is not valid before "
                f"{start.isoformat()}; checked at {now.isoformat()}",
            )
        if now > end:
            raise CertificateChainInvalid(
                "snp.validity",
                f"the {role} certificate '{common_name(cert)}' expired on {end.isoformat()}; "
                f"checked at {now.isoformat()}",
            )
    return Check(
        "snp.validity",
        f"ARK, {middle} and {leaf_role} certificates valid at {now.isoformat()} "
        f"({leaf_role} valid until {chain.leaf.not_valid_after_utc.date().isoformat()})",
    )
