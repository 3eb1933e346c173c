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

PRODUCTS = {"amd-milan": "Milan", "amd-genoa": "Genoa", "amd-turin": "Turin"}
PEMS = {"amd-milan": "milan", "amd-genoa": "genoa", "amd-turin": "turin_vcek"}


def published_ark_hashes(testvectors: Path) -> dict[str, str]:
    """``ARK-Milan `<sha256>` `` entries of the test vectors' README."""
    readme = (testvectors / "README.md").read_text()
    found = dict(re.findall(r"ARK-(\w+) `([0-9a-f]{64})`", readme))
    assert set(found) == {"Milan", "Genoa", "Turin"}
    return found


def test_shipped_ark_hashes_match_the_published_values(testvectors: Path) -> None:
    published = published_ark_hashes(testvectors)
    for name, product in PRODUCTS.items():
        roots = TrustedRoots.shipped(name)
        (ark,) = roots.anchors
        assert certificate_sha256(ark) == published[product]
        assert dict(AMD_ROOTS[name])[f"amd-ark-{product.lower()}.der"] == published[product]


@pytest.mark.parametrize("name", sorted(PRODUCTS))
def test_shipped_roots_chain_and_equal_the_vendor_files(testvectors: Path, name: str) -> None:
    assert SHIPPED[name] == AMD_ROOTS[name]
    roots = TrustedRoots.shipped(name)
    (ark,), (ask,) = roots.anchors, roots.intermediates
    assert ark.subject.rfc4514_string().startswith(f"CN=ARK-{PRODUCTS[name]},")
    assert ask.subject.rfc4514_string().startswith(f"CN=SEV-{PRODUCTS[name]},")
    assert signed_by(ark, ark)
    assert signed_by(ask, ark)
    pem = (testvectors / "roots" / f"amd_ask_ark_{PEMS[name]}.pem").read_bytes()
    vendor = [c.public_bytes(Encoding.DER) for c in x509.load_pem_x509_certificates(pem)]
    assert vendor == [ask.public_bytes(Encoding.DER), ark.public_bytes(Encoding.DER)]


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
