"""The AK certificate's path: leaf → untrusted intermediates → a trusted anchor.

Intermediates that come with the evidence (or as ``roots.intermediates``) are untrusted:
they are only candidates for the links of a path that ends at an anchor of
:class:`TrustedRoots`. The path is assembled here by names; checking it (signatures, CA
flags, validity at ``now``) is :func:`verifier.tdx.chain.verify_chain`'s job.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from cryptography import x509

from verifier.errors import CertificateChainInvalid, CouldNotCheck
from verifier.tdx.chain import verify_chain
from verifier.trust import TrustedRoots

MAX_PATH_LENGTH = 6


def verify_path(
    leaf: x509.Certificate,
    *,
    intermediates: Sequence[x509.Certificate],
    roots: TrustedRoots,
    now: datetime,
    check: str,
) -> x509.Certificate:
    """Verify a path from ``leaf`` to a trusted anchor; return the anchor, or raise."""
    if not roots:
        raise CouldNotCheck(check, "no trusted roots were given for the AK certificate")
    pool = [*intermediates, *roots.intermediates]
    path = [leaf]
    while not any(anchor.subject == path[-1].issuer for anchor in roots.anchors):
        parent = next((c for c in pool if c.subject == path[-1].issuer and c not in path), None)
        if parent is None or len(path) == MAX_PATH_LENGTH:
            raise CertificateChainInvalid(
                check, f"{path[-1].subject.rfc4514_string()} does not chain to a trusted root"
            )
        path.append(parent)
    return verify_chain(path, roots, now, check=check)
