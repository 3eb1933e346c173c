"""Every input that broke a parser's contract, kept so that it never does again.

Each entry is the input (a file the fuzzer wrote under ``crashes/``, a hex literal, or a
builder for inputs too large to commit, such as a thousand nested structures), the target
that crashed on it, the named error it raises now, and the root cause. ``docs/fuzzing.md``
lists the same crashes with their fixes.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from attestation.errors import MalformedEvidence
from attestation.formats import der
from attestation.formats.pki import load_der_certificate, load_der_crl
from attestation.formats.tdx import INTEL_QE_VENDOR_ID
from fuzz.contract import Context, evidence_parts, join_parts
from fuzz.material import Material
from fuzz.targets import all_targets
from verifier.collateral import CollateralInvalid, TdxCollateral
from verifier.collateral.model import crl_der
from verifier.collateral.rawjson import check_depth, raw_member
from verifier.errors import BadInput
from verifier.tdx.chain import load_crl
from verifier.tdx.pem import load_pem_chain
from verifier.tdx.tcb_info import TcbInfo
from verifier.trust import load_certificates

CRASHES = Path(__file__).parent / "crashes"
TARGETS = all_targets()

# A P-256 certificate whose version INTEGER says 3 (X.509 knows 0 to 2): cryptography
# raises InvalidVersion, which is not a ValueError.
CERT_VERSION_3 = bytes.fromhex(
    "308201053081ada003020103020101300a06082a8648ce3d040302300d310b300906035504030c024341"
    "301e170d3235303130313030303030305a170d3235303130323030303030305a300d310b300906035504"
    "030c0243413059301306072a8648ce3d020106082a8648ce3d030107034200046b17d1f2e12c4247f8bc"
    "e6e563a440f277037d812deb33a0f4a13945d898c2964fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce3357"
    "6b315ececbb6406837bf51f5300a06082a8648ce3d040302034700304402207b1d7b6c42c8f3c6d09782"
    "2da28a6bedbbbe3a611952b3874f041d5216e827d402203cedf2f36baea7e3675fc99c1ef35078a641b6"
    "22aad3c8393c6c2e28b9c20669"
)
# A CRL whose issuer CN is the byte 0xff in a UTF8String: it loads, and fails only when the
# issuer is first read.
CRL_BAD_ISSUER = bytes.fromhex(
    "308193303c020101300a06082a8648ce3d040302300d310b300906035504030c02ff41170d3235303130"
    "313030303030305a170d3235303133313030303030305a300a06082a8648ce3d04030203470030440220"
    "4dc9dff996858820d082ff6af7b9a61aa1ef8fc0076490ebc56a56b2c4c9b7d20220457e57b4b7f41341"
    "32e98c337ff7698e3ef92748b9a0e13326c7d1ca3ed6077d"
)


def _pem(data: bytes) -> bytes:
    import base64

    return (
        b"-----BEGIN CERTIFICATE-----\n" + base64.b64encode(data) + b"\n-----END CERTIFICATE-----\n"
    )


def deeper_than_recursion() -> int:
    """More levels than Python's recursion limit (which py-evm, once imported, raises)."""
    return sys.getrecursionlimit() + 1000


def nested_quote(depth: int) -> bytes:
    """A v4 quote whose QE certification data nests ``depth`` type-6 blocks."""
    header = (4).to_bytes(2, "little") + (2).to_bytes(2, "little") + (0x81).to_bytes(4, "little")
    header += bytes(4) + INTEL_QE_VENDOR_ID + bytes(20)
    level = 6 + 384 + 64 + 2  # type, size, QE report, its signature, auth data size (0)
    innermost = (5).to_bytes(2, "little") + bytes(4)  # an empty PCK chain (6 bytes)
    # Outermost first: block i holds depth - i - 1 blocks and the innermost chain, which
    # comes to (depth - i) * level bytes after its own type and size.
    blocks = [
        (6).to_bytes(2, "little") + ((depth - i) * level).to_bytes(4, "little") + bytes(level - 6)
        for i in range(depth)
    ]
    signature_data = bytes(128) + b"".join(blocks) + innermost
    return header + bytes(584) + len(signature_data).to_bytes(4, "little") + signature_data


def _huge_oid_extensions() -> bytes:
    arc = b"\x81" * 2100 + b"\x01"  # one arc of ~14,700 bits: over 4,300 decimal digits
    return der.sequence(der.sequence(der.tlv(der.OID, arc), der.tlv(der.OCTET_STRING, b"")))


def _simulated_tdx(material: Material, **collateral: bytes) -> bytes:
    evidence = next(e for e in material.tdx_evidence if e.provider == "simulated")
    carried = {**evidence.collateral, **collateral}
    return evidence_parts(evidence.report, evidence.report_data, collateral=carried)


def _deep_pcs_response(material: Material) -> bytes:
    evidence = next(e for e in material.tdx_evidence if e.provider == "simulated")
    c = TdxCollateral.from_evidence(evidence.collateral)
    assert c is not None
    return join_parts(
        b'{"tcbInfo": ' + b"[" * deeper_than_recursion() + b', "signature": "00"}',
        {"coll.qe_identity_response": b"{}", "coll.pck_crl": c.pck_crl,
         "coll.root_ca_crl": c.root_ca_crl},
    )  # fmt: skip


@dataclass(frozen=True)
class Crash:
    """An input that crashed ``target``; ``error`` is the named error it raises now."""

    name: str
    target: str
    data: bytes | Callable[[Material], bytes]
    error: type[Exception]
    found_by: str  # "atheris", "mutation" (the fast runner) or "review"
    cause: str

    def input(self, material: Material) -> bytes:
        return self.data if isinstance(self.data, bytes) else self.data(material)


CRASH_LIST = [
    Crash(
        "vcek-invalid-version",
        "snp_certificate",
        (CRASHES / "snp_certificate-invalid-version.der").read_bytes(),
        MalformedEvidence,
        "atheris",
        "load_certificate caught ValueError but not x509.InvalidVersion",
    ),
    Crash(
        "certtable-invalid-version",
        "snp_certtable",
        (CRASHES / "snp_certtable-invalid-version.bin").read_bytes(),
        MalformedEvidence,
        "atheris",
        "the same, through a GHCB certificate table",
    ),
    Crash(
        "tdx-crl-lazy-issuer",
        "verify_tdx",
        lambda m: _simulated_tdx(m, root_ca_crl=CRL_BAD_ISSUER),
        CollateralInvalid,
        "mutation",
        "CRLs were parsed lazily: a damaged issuer raised ValueError inside verify_crl",
    ),
    Crash(
        "policy-array-of-tables",
        "policy",
        (CRASHES / "policy-array-of-tables.toml").read_bytes(),
        BadInput,
        "atheris",
        "a section given as an array of tables ([[vtpm]]) reached set() as a list of dicts",
    ),
    Crash(
        "policy-section-not-table",
        "policy",
        b"tdx = 1",
        BadInput,
        "review",
        "a section given as a value: set(1)",
    ),
    Crash(
        "policy-unhashable-platform",
        "policy",
        b"[policy]\nplatforms = [[1]]",
        BadInput,
        "review",
        "a list of lists reached set()",
    ),
    Crash(
        "policy-unhashable-status",
        "policy",
        b"[tdx]\nallowed_tcb_statuses = [{}]",
        BadInput,
        "review",
        "a list of tables reached set()",
    ),
    Crash(
        "policy-unicode-digit-pcr",
        "policy",
        '[vtpm]\npcrs = { "²" = [] }'.encode(),
        BadInput,
        "review",
        "str.isdigit() accepts '²', which int() refuses",
    ),
    Crash(
        "policy-deep-nesting",
        "policy",
        lambda m: b"a = " + b"[" * deeper_than_recursion(),
        BadInput,
        "review",
        "tomllib recurses into nested arrays: RecursionError",
    ),
    Crash(
        "pck-oid-huge-arc",
        "tdx_pck_extensions",
        _huge_oid_extensions(),
        MalformedEvidence,
        "review",
        "decode_oid printed an unbounded arc: Python refuses int-to-text past 4,300 digits",
    ),
    Crash(
        "quote-nested-certification-data",
        "tdx_quote",
        lambda m: nested_quote(deeper_than_recursion()),
        MalformedEvidence,
        "review",
        "type-6 certification data nested without limit: RecursionError",
    ),
    Crash(
        "pcs-response-deep-nesting",
        "tdx_pcs_collateral",
        _deep_pcs_response,
        BadInput,
        "review",
        "raw_member used the json module, which recurses: RecursionError (or SIGSEGV when "
        "py_ecc has raised the recursion limit)",
    ),
]


@pytest.mark.parametrize("crash", CRASH_LIST, ids=lambda c: c.name)
def test_a_crash_input_raises_a_named_error(
    crash: Crash, material: Material, context: Context
) -> None:
    target = TARGETS[crash.target]
    assert issubclass(crash.error, target.allowed)
    with pytest.raises(crash.error):
        target.run(context, crash.input(material))


# -- the same causes, at every caller that shared them ---------------------------------------


def test_every_certificate_loader_names_an_invalid_version() -> None:
    with pytest.raises(MalformedEvidence):
        load_der_certificate(CERT_VERSION_3, "certificate")
    with pytest.raises(ValueError, match="certificate at byte 0"):
        load_pem_chain(_pem(CERT_VERSION_3))
    with pytest.raises(BadInput):
        load_certificates(CERT_VERSION_3, "a root")
    with pytest.raises(BadInput):
        load_certificates(_pem(CERT_VERSION_3), "a root")


def test_every_crl_loader_parses_the_issuer_at_once() -> None:
    with pytest.raises(MalformedEvidence):
        load_der_crl(CRL_BAD_ISSUER, "crl")
    with pytest.raises(CollateralInvalid):
        load_crl(CRL_BAD_ISSUER, check="tdx.crl", what="root CA CRL")
    with pytest.raises(BadInput):
        crl_der(CRL_BAD_ISSUER, "crl")


def test_unverified_collateral_lookups_survive_a_bad_crl(material: Material) -> None:
    evidence = next(e for e in material.tdx_evidence if e.provider == "simulated")
    collateral = TdxCollateral.from_evidence(evidence.collateral)
    assert collateral is not None
    damaged = replace(collateral, pck_crl=CRL_BAD_ISSUER, root_ca_crl=CRL_BAD_ISSUER)
    assert damaged.pck_crl_issuer() == ""
    assert damaged.window() is None


def test_deeply_nested_collateral_json_is_named() -> None:
    deep = b"[" * deeper_than_recursion()
    with pytest.raises(ValueError, match="nested more than 64 levels"):
        raw_member(b'{"tcbInfo": ' + deep + b"}", "tcbInfo")
    with pytest.raises(CollateralInvalid, match="nested more than 64 levels"):
        TcbInfo.from_json(deep)


def test_depth_counts_brackets_outside_strings_only() -> None:
    check_depth(b'{"a": "[[[[[[[[\\"[[[[", "b": [[{}]]}', limit=4)
    with pytest.raises(ValueError):
        check_depth(b'{"a": "[[[[[[[[\\"[[[[", "b": [[{}]]}', limit=3)
    check_depth(b'"' + b'\\"' * 10_000)  # one unterminated string, read once


# What made this serious: py_ecc (imported with the anchor's embedded chain) raises the
# recursion limit to 100,000, and then the json module's C decoder overflows the C stack on
# deep input instead of raising RecursionError: the process dies (SIGSEGV).
_UNDER_A_HIGH_RECURSION_LIMIT = """
import sys
sys.setrecursionlimit(100_000)
from verifier.collateral.rawjson import raw_member
from verifier.tdx.tcb_info import TcbInfo
deep = b"[" * 99_000
for parse in (lambda: raw_member(b'{"tcbInfo": ' + deep + b"}", "tcbInfo"),
              lambda: TcbInfo.from_json(deep)):
    try:
        parse()
    except Exception as exc:  # a named error (ValueError, CollateralInvalid) is the point
        print(type(exc).__name__)
print("alive")
"""


def test_deep_collateral_json_cannot_kill_the_process() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _UNDER_A_HIGH_RECURSION_LIMIT],
        capture_output=True,
        check=False,
        cwd=Path(__file__).parents[2],
    )
    assert (done.returncode, done.stdout.split()) == (
        0,
        [b"ValueError", b"CollateralInvalid", b"alive"],
    )
