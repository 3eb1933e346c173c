"""verify_nitro on hand-built chains and re-signed documents: one defect at a time."""

from __future__ import annotations

from datetime import timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from attestation.formats.nitro import NitroDocument, parse_nitro
from attestation.simulated.nitro import SimulatedNitro, default_pcrs
from attestation.simulated.nitro_pki import NitroPki
from tests.helpers.nitro import START, Clock, evidence, resign, sign
from verifier.errors import (
    CertificateChainInvalid,
    EvidenceSignatureInvalid,
    VerificationFailed,
)
from verifier.nitro import verify_nitro
from verifier.trust import TrustedRoots

REPORT_DATA = bytes(range(64))
USAGE_NAMES = (
    "digital_signature",
    "content_commitment",
    "key_encipherment",
    "data_encipherment",
    "key_agreement",
    "key_cert_sign",
    "crl_sign",
    "encipher_only",
    "decipher_only",
)
CA_USAGE = dict(digital_signature=True, key_cert_sign=True, crl_sign=True)
LEAF_USAGE = dict(digital_signature=True)


def usage(**flags: bool) -> x509.KeyUsage:
    return x509.KeyUsage(**{name: flags.get(name, False) for name in USAGE_NAMES})


class Node:
    """A certificate and its key, built with exactly the extensions asked for."""

    def __init__(self, name, issuer=None, *, curve=None, extensions=(), lifetime=timedelta(days=1)):
        self.key = ec.generate_private_key(curve or ec.SECP384R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject if issuer is None else issuer.cert.subject)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(START - timedelta(hours=1))
            .not_valid_after(START + lifetime)
        )
        for extension, critical in extensions:
            builder = builder.add_extension(extension, critical=critical)
        signer = self.key if issuer is None else issuer.key
        self.cert = builder.sign(signer, hashes.SHA384())
        self.der = self.cert.public_bytes(serialization.Encoding.DER)


def ca(path_length=None, key_usage=None):
    return (
        (x509.BasicConstraints(ca=True, path_length=path_length), True),
        (key_usage or usage(**CA_USAGE), True),
    )


LEAF = ((x509.BasicConstraints(ca=False, path_length=None), True), (usage(**LEAF_USAGE), False))


def document(leaf: Node, *bundle: Node, timestamp=START) -> NitroDocument:
    return NitroDocument(
        module_id="i-0123456789abcdef0-enc0123456789abcdef",
        digest="SHA384",
        timestamp_ms=int(timestamp.timestamp() * 1000),
        pcrs=default_pcrs(),
        certificate=leaf.der,
        cabundle=tuple(node.der for node in bundle),
        user_data=REPORT_DATA,
        nonce=REPORT_DATA[32:],
    )


def check(leaf: Node, *bundle: Node, roots=None, signer=None):
    raw = sign(document(leaf, *bundle), (signer or leaf).key)
    anchors = roots if roots is not None else TrustedRoots.from_certificates([bundle[0].cert])
    return verify_nitro(evidence(raw, REPORT_DATA), roots=anchors)


@pytest.fixture(scope="module")
def good():
    root = Node("root", extensions=ca())
    middle = Node("middle", root, extensions=ca(path_length=0))
    leaf = Node("leaf", middle, extensions=LEAF)
    return root, middle, leaf


def test_a_well_built_chain_verifies(good):
    root, middle, leaf = good
    assert check(leaf, root, middle).checked_at == START


def fails(check_name: str, error=CertificateChainInvalid):
    return pytest.raises(error, match=rf"^{check_name}: ")


def test_leaf_signed_by_another_key(good):
    root, middle, leaf = good
    with fails("nitro.cose-signature", EvidenceSignatureInvalid):
        check(leaf, root, middle, signer=middle)


def test_leaf_with_a_p256_key():
    root = Node("root", extensions=ca())
    leaf = Node("leaf", root, curve=ec.SECP256R1(), extensions=LEAF)
    with fails("nitro.cose-signature", EvidenceSignatureInvalid):
        check(leaf, root)


def test_leaf_that_is_a_ca():
    root = Node("root", extensions=ca())
    leaf = Node("leaf", root, extensions=ca())
    with fails("nitro.chain"):
        check(leaf, root)


def test_leaf_that_may_not_sign():
    root = Node("root", extensions=ca())
    leaf = Node("leaf", root, extensions=(LEAF[0], (usage(key_agreement=True), False)))
    with fails("nitro.chain"):
        check(leaf, root)


def test_intermediate_that_is_not_a_ca():
    root = Node("root", extensions=ca())
    middle = Node("middle", root, extensions=LEAF)
    leaf = Node("leaf", middle, extensions=LEAF)
    with fails("nitro.chain"):
        check(leaf, root, middle)


def test_intermediate_without_cert_signing_usage():
    root = Node("root", extensions=ca())
    middle = Node("middle", root, extensions=ca(key_usage=usage(digital_signature=True)))
    leaf = Node("leaf", middle, extensions=LEAF)
    with fails("nitro.chain"):
        check(leaf, root, middle)


def test_path_length_is_enforced():
    root = Node("root", extensions=ca(path_length=0))
    middle = Node("middle", root, extensions=ca())
    leaf = Node("leaf", middle, extensions=LEAF)
    with fails("nitro.chain"):
        check(leaf, root, middle)


def test_unknown_critical_extension():
    odd = (
        x509.UnrecognizedExtension(x509.ObjectIdentifier("1.3.6.1.4.1.55555.1"), b"\x05\x00"),
        True,
    )
    root = Node("root", extensions=ca())
    leaf = Node("leaf", root, extensions=(*LEAF, odd))
    with fails("nitro.chain"):
        check(leaf, root)


def test_leaf_not_issued_by_the_last_intermediate(good):
    root, _, leaf = good
    other = Node("other", root, extensions=ca(path_length=0))
    with fails("nitro.chain"):
        check(leaf, root, other)


def test_root_must_be_the_anchor_not_merely_trusted(good):
    """cabundle[0] swapped for another self-signed cert, while the real root is trusted."""
    root, middle, leaf = good
    impostor = Node("root", extensions=ca())
    trusted = TrustedRoots.from_certificates([root.cert])
    with fails("nitro.chain") as caught:
        check(leaf, impostor, middle, roots=trusted)
    assert "not a trusted anchor" in str(caught.value)
    both = TrustedRoots.from_certificates([root.cert, impostor.cert])
    with fails("nitro.chain"):  # trusted, but it did not issue the intermediate
        check(leaf, impostor, middle, roots=both)


def test_expired_intermediate():
    root = Node("root", extensions=ca())
    middle = Node("middle", root, extensions=ca(), lifetime=timedelta(seconds=-1))
    leaf = Node("leaf", middle, extensions=LEAF)
    with fails("nitro.validity"):
        check(leaf, root, middle)


@pytest.fixture
def simulated():
    clock = Clock()
    simulator = SimulatedNitro(NitroPki.generate(clock.now), clock=clock)
    raw = simulator.get_evidence(REPORT_DATA).report
    leaf, _ = simulator.pki.chain_at(clock.now)
    roots = TrustedRoots.from_certificates([simulator.root_certificate])
    return raw, leaf.key, roots


def test_timestamp_outside_the_leaf_window(simulated):
    raw, key, roots = simulated
    leaf = parse_nitro(raw).document.leaf
    early = leaf.not_valid_before_utc - timedelta(minutes=5)
    moved = resign(raw, key, timestamp_ms=int(early.timestamp() * 1000))
    with fails("nitro.validity"):
        verify_nitro(evidence(moved, REPORT_DATA), roots=roots)
    with fails("nitro.validity"):  # even when "now" itself is inside every window
        verify_nitro(evidence(moved, REPORT_DATA), roots=roots, now=START)


@pytest.mark.parametrize(
    "changes",
    [
        {"digest": "SHA256"},
        {"digest": "SHA512"},
        {"pcrs": {**default_pcrs(), 3: bytes(32)}},
        {"pcrs": {**default_pcrs(), 3: bytes(64)}},
    ],
)
def test_pcrs_must_be_sha384(simulated, changes):
    raw, key, roots = simulated
    with fails("nitro.digest", VerificationFailed):
        verify_nitro(evidence(resign(raw, key, **changes), REPORT_DATA), roots=roots)


def test_user_data_of_another_size_is_not_report_data(simulated):
    raw, key, roots = simulated
    odd = resign(raw, key, user_data=b"\x01" * 63, nonce=b"\x02" * 32)
    verified = verify_nitro(evidence(odd, bytes(64)), roots=roots)
    assert verified.report_data == bytes(64)
    assert verified.details["user_data"] == "01" * 63


def test_missing_pcrs_count_as_debug(simulated):
    raw, key, roots = simulated
    pcrs = {i: v for i, v in default_pcrs().items() if i != 0}
    pcrs[1] = pcrs[2] = bytes(48)
    verified = verify_nitro(evidence(resign(raw, key, pcrs=pcrs), REPORT_DATA), roots=roots)
    assert verified.debug
    assert "pcr0" not in verified.measurements
