"""The shipped AMD roots: pinned, equal to AMD's published ARKs, and chaining."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from verifier.errors import BadInput
from verifier.snp.chain import signed_by
from verifier.trust import SHIPPED, TrustedRoots, certificate_sha256
from verifier.trust.amd import AMD_ROOTS

# shipped name -> (product, vendor file stem, common name of the middle certificate)
CHAINS = {
    "amd-milan": ("Milan", "milan", "SEV-Milan"),
    "amd-genoa": ("Genoa", "genoa", "SEV-Genoa"),
    "amd-turin": ("Turin", "turin_vcek", "SEV-Turin"),
    "amd-milan-vlek": ("Milan", "milan_vlek", "SEV-VLEK-Milan"),
    "amd-genoa-vlek": ("Genoa", "genoa_vlek", "SEV-VLEK-Genoa"),
    "amd-turin-vlek": ("Turin", "turin_vlek", "SEV-VLEK-Turin"),
}


def published_ark_hashes(testvectors: Path) -> dict[str, str]:
    """``ARK-Milan `<sha256>` `` entries of the test vectors' README."""
    readme = (testvectors / "README.md").read_text()
    found = dict(re.findall(r"ARK-(\w+) `([0-9a-f]{64})`", readme))
    assert set(found) == {"Milan", "Genoa", "Turin"}
    return found


def test_shipped_ark_hashes_match_the_published_values(testvectors: Path) -> None:
    published = published_ark_hashes(testvectors)
    for name, (product, _, _) in CHAINS.items():
        (ark,) = TrustedRoots.shipped(name).anchors
        assert certificate_sha256(ark) == published[product]
        assert dict(AMD_ROOTS[name])[f"amd-ark-{product.lower()}.der"] == published[product]


def test_every_amd_chain_is_shipped() -> None:
    assert set(AMD_ROOTS) == set(CHAINS)
    assert all(SHIPPED[name] == AMD_ROOTS[name] for name in CHAINS)


@pytest.mark.parametrize("name", sorted(CHAINS))
def test_shipped_roots_chain_and_equal_the_vendor_files(testvectors: Path, name: str) -> None:
    product, stem, middle_cn = CHAINS[name]
    roots = TrustedRoots.shipped(name)
    (ark,), (middle,) = roots.anchors, roots.intermediates
    assert ark.subject.rfc4514_string().startswith(f"CN=ARK-{product},")
    assert middle.subject.rfc4514_string().startswith(f"CN={middle_cn},")
    assert signed_by(ark, ark)
    assert signed_by(middle, ark)
    pem = (testvectors / "roots" / f"amd_ask_ark_{stem}.pem").read_bytes()
    vendor = [c.public_bytes(Encoding.DER) for c in x509.load_pem_x509_certificates(pem)]
    assert vendor == [middle.public_bytes(Encoding.DER), ark.public_bytes(Encoding.DER)]


def test_asks_do_not_cross_products() -> None:
    milan, genoa = TrustedRoots.shipped("amd-milan"), TrustedRoots.shipped("amd-genoa")
    assert not signed_by(genoa.intermediates[0], milan.anchors[0])


def test_a_file_that_does_not_match_its_pin_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    (ark_file, pin), ask = AMD_ROOTS["amd-milan"]
    wrong = hashlib.sha256(b"not the ARK").hexdigest()
    monkeypatch.setitem(SHIPPED, "amd-milan", ((ark_file, wrong), ask))
    with pytest.raises(BadInput, match="does not match its pin"):
        TrustedRoots.shipped("amd-milan")
    assert pin != wrong
