"""The shipped AWS Nitro root: pinned, and the same certificate the test vectors name."""

from __future__ import annotations

import hashlib
import re
from importlib import resources

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from verifier.trust import SHIPPED, TrustedRoots, certificate_sha256


def test_pin_is_the_readme_value(testvectors):
    readme = (testvectors / "README.md").read_text()
    row = next(line for line in readme.splitlines() if "aws_nitro_root_g1.pem" in line)
    (expected,) = re.findall(r"`([0-9a-f]{64})`", row)
    ((filename, pin),) = SHIPPED["aws-nitro"]
    assert pin == expected
    data = resources.files("verifier.trust").joinpath(filename).read_bytes()
    assert hashlib.sha256(data).hexdigest() == expected


def test_shipped_der_is_the_vector_root(testvectors):
    pem = (testvectors / "roots" / "aws_nitro_root_g1.pem").read_bytes()
    (vector_root,) = x509.load_pem_x509_certificates(pem)
    roots = TrustedRoots.shipped("aws-nitro")
    assert roots.anchors == (vector_root,)
    assert roots.intermediates == ()
    (anchor,) = roots.anchors
    assert anchor.subject.rfc4514_string() == "CN=aws.nitro-enclaves,OU=AWS,O=Amazon,C=US"
    assert (
        certificate_sha256(anchor)
        == hashlib.sha256(vector_root.public_bytes(Encoding.DER)).hexdigest()
    )
