"""verify_snp on real AMD evidence: what verifies, what fails, and with which error."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from attestation.errors import MalformedEvidence
from attestation.evidence import Evidence
from attestation.formats.snp import REPORT_SIZE, SIGNED_SIZE, SnpReport
from attestation.formats.snp_certs import EndorsementExtensions
from tests.helpers.snp import VECTORS, snp_vector
from verifier.claims import VerifiedEvidence
from verifier.errors import (
    BadInput,
    BindingMismatch,
    CertificateChainInvalid,
    CouldNotCheck,
    EvidenceSignatureInvalid,
    VerificationFailed,
)
from verifier.snp import verify_snp
from verifier.snp.chain import AmdChain
from verifier.snp.verify import detect_product
from verifier.trust import TrustedRoots

ALL_AMD = TrustedRoots.shipped("amd-milan", "amd-genoa", "amd-turin")


def verify(evidence: Evidence, name: str, roots: TrustedRoots | None = None) -> VerifiedEvidence:
    """Verify a vector with its own roots (or ``roots``) at a time inside its window."""
    shipped, when = VECTORS[name]
    roots = TrustedRoots.shipped(shipped) if roots is None else roots
    return verify_snp(evidence, roots=roots, now=when)


def test_milan_v2_verifies(testvectors: Path) -> None:
    claims = verify_snp(
        snp_vector(testvectors, "milan-v2"),
        roots=TrustedRoots.shipped("amd-milan"),
        now=datetime(2025, 1, 1, tzinfo=UTC),
    )
    assert claims.platform == "sev-snp"
    assert claims.signer == "VCEK (Milan)"
    assert claims.debug is False
    assert claims.measurements["measurement"].startswith("7a1e5c26")
    assert claims.measurements["measurement"].endswith("841f")
    assert dict(claims.tcb) == {"bootloader": 3, "tee": 0, "snp": 8, "microcode": 115}
    assert claims.details["policy"] == 0x30000
    assert claims.details["version"] == 2
    assert claims.details["product"] == "Milan"
    assert claims.details["chip_id"].startswith("d49554ec")
    assert claims.details["current_version"] == "1.52.4"
    assert [c.name for c in claims.checks] == [
        "snp.report",
        "snp.report-data",
        "snp.vcek-chain",
        "snp.validity",
        "snp.signature",
        "snp.product",
        "snp.tcb",
        "snp.chip-id",
    ]
    assert "ARK-Milan" in claims.checks[2].detail
    assert claims.checked_at == datetime(2025, 1, 1, tzinfo=UTC)


def test_milan_v2_debug_verifies_and_reports_debug(testvectors: Path) -> None:
    claims = verify(snp_vector(testvectors, "milan-v2-debug"), "milan-v2-debug")
    assert claims.debug is True
    assert claims.details["policy"] == 0xB0000
    assert claims.report_data == bytes.fromhex("0102030405") + bytes(59)
    assert claims.measurements["measurement"].startswith("b07af962")


def test_genoa_v5_verifies(testvectors: Path) -> None:
    claims = verify(snp_vector(testvectors, "genoa-v5"), "genoa-v5")
    assert claims.signer == "VCEK (Genoa)"
    assert claims.debug is False
    assert claims.report_data.hex().startswith("8100555a")
    assert claims.measurements["measurement"].startswith("c5772901")
    assert claims.details["version"] == 5
    assert claims.details["cpuid"] == {"family": 0x19, "model": 0x11, "stepping": 1}
    assert claims.details["launch_mit_vector"] == 1
    assert "from the report's CPUID" in next(
        c.detail for c in claims.checks if c.name == "snp.product"
    )
    assert claims.to_dict()["tcb"] == {"bootloader": 10, "tee": 0, "snp": 25, "microcode": 84}


@pytest.mark.parametrize("name", sorted(VECTORS))
def test_every_vector_verifies_against_all_amd_roots(testvectors: Path, name: str) -> None:
    claims = verify(snp_vector(testvectors, name), name, ALL_AMD)
    assert claims.signer.startswith("VCEK (")


@pytest.mark.parametrize(
    ("name", "wrong"),
    [("milan-v2", "amd-genoa"), ("genoa-v5", "amd-milan"), ("milan-v2-debug", "amd-turin")],
)
def test_wrong_product_roots_fail(testvectors: Path, name: str, wrong: str) -> None:
    with pytest.raises(CertificateChainInvalid) as caught:
        verify(snp_vector(testvectors, name), name, TrustedRoots.shipped(wrong))
    assert caught.value.check == "snp.vcek-chain"
    assert "not among the trusted AMD signing keys" in caught.value.reason


@pytest.mark.parametrize(
    ("when", "words"),
    [
        (datetime(2023, 1, 1, tzinfo=UTC), "not valid before"),
        (datetime(2031, 1, 1, tzinfo=UTC), "expired"),
    ],
)
def test_outside_the_validity_window(testvectors: Path, when: datetime, words: str) -> None:
    with pytest.raises(CertificateChainInvalid, match=words) as caught:
        verify_snp(snp_vector(testvectors, "milan-v2"), roots=ALL_AMD, now=when)
    assert caught.value.check == "snp.validity"
    assert "VCEK" in caught.value.reason


def test_missing_vcek_could_not_check(testvectors: Path) -> None:
    evidence = replace(snp_vector(testvectors, "milan-v2"), certificates={})
    with pytest.raises(CouldNotCheck) as caught:
        verify(evidence, "milan-v2")
    assert caught.value.check == "snp.vcek"


def test_no_roots_could_not_check(testvectors: Path) -> None:
    with pytest.raises(CouldNotCheck) as caught:
        verify(snp_vector(testvectors, "milan-v2"), "milan-v2", TrustedRoots())
    assert caught.value.check == "snp.vcek-chain"


def test_ask_may_come_from_the_evidence(testvectors: Path) -> None:
    shipped = TrustedRoots.shipped("amd-milan")
    ark_only = TrustedRoots(anchors=shipped.anchors)
    evidence = snp_vector(testvectors, "milan-v2")
    with pytest.raises(CertificateChainInvalid):
        verify(evidence, "milan-v2", ark_only)
    ask = shipped.intermediates[0].public_bytes(Encoding.DER)
    with_ask = replace(evidence, certificates={**evidence.certificates, "ask": ask})
    assert verify(with_ask, "milan-v2", ark_only)


def test_another_chips_vcek_fails_the_signature(testvectors: Path) -> None:
    evidence = snp_vector(testvectors, "milan-v2")
    other = snp_vector(testvectors, "milan-v2-debug").certificates["vcek"]
    with pytest.raises(EvidenceSignatureInvalid) as caught:
        verify(replace(evidence, certificates={"vcek": other}), "milan-v2")
    assert caught.value.check == "snp.signature"


def test_report_data_must_match_the_evidence(testvectors: Path) -> None:
    evidence = replace(snp_vector(testvectors, "milan-v2"), report_data=bytes(64))
    with pytest.raises(BindingMismatch) as caught:
        verify(evidence, "milan-v2")
    assert caught.value.check == "snp.report-data"


def test_bad_time_and_platform(testvectors: Path) -> None:
    evidence = snp_vector(testvectors, "milan-v2")
    with pytest.raises(BadInput):
        verify_snp(evidence, roots=ALL_AMD, now=datetime(2025, 1, 1))
    with pytest.raises(BadInput):
        verify_snp(replace(evidence, platform="tdx"), roots=ALL_AMD, now=datetime.now(UTC))


# -- tampering: every single byte counts ---------------------------------------------


def flipped(data: bytes, position: int) -> bytes:
    return data[:position] + bytes((data[position] ^ 0xFF,)) + data[position + 1 :]


def outcome(evidence: Evidence, name: str) -> str:
    """Which named failure a tampered piece of evidence produces (the test fails on success)."""
    try:
        verify(evidence, name)
    except MalformedEvidence as exc:  # bad input: cannot even be parsed
        return f"MalformedEvidence:{exc.field}"
    except VerificationFailed as exc:  # parsed, checked, and wrong
        return f"{type(exc).__name__}:{exc.check}"
    raise AssertionError("tampered evidence verified")


def structural(version: int) -> set[int]:
    """Positions parsing refuses to change freely: fields with fixed values, reserved bytes,
    and the signature's padding. Every other byte is caught by the signature alone."""
    fixed = {*range(0x00, 0x04), *range(0x34, 0x38), 0x0A, *range(0x48, 0x50)}
    cpuid_end = 0x18B if version >= 3 else 0x188
    mit_end = 0x208 if version >= 5 else 0x1F8
    reserved = {*range(cpuid_end, 0x1A0), 0x1EB, 0x1EF, *range(mit_end, SIGNED_SIZE)}
    padding = {*range(0x2A0 + 48, 0x2A0 + 72), *range(0x2A0 + 120, REPORT_SIZE)}
    return fixed | reserved | padding


@pytest.mark.parametrize(("name", "version"), [("milan-v2", 2), ("genoa-v5", 5)])
def test_flipping_any_byte_of_the_report_fails(testvectors: Path, name: str, version: int) -> None:
    evidence = snp_vector(testvectors, name)
    refused = structural(version)
    for position in range(REPORT_SIZE):
        report = flipped(evidence.report, position)
        # Bind whatever REPORT_DATA the tampered report claims, so the signature must catch it.
        tampered = replace(evidence, report=report, report_data=report[0x50:0x90])
        result = outcome(tampered, name)
        if position in refused:
            assert result.startswith("MalformedEvidence:"), (hex(position), result)
        else:
            assert result == "EvidenceSignatureInvalid:snp.signature", (hex(position), result)


def test_flipping_any_byte_of_the_vcek_fails(testvectors: Path) -> None:
    evidence = snp_vector(testvectors, "milan-v2")
    vcek = evidence.certificates["vcek"]
    seen: Counter[str] = Counter()
    for position in range(len(vcek)):
        tampered = replace(evidence, certificates={"vcek": flipped(vcek, position)})
        result = outcome(tampered, "milan-v2")
        # Unparsable certificates are MalformedEvidence (bad input, exit 2); parsable ones
        # no longer chain to the ARK: CertificateChainInvalid (verification failed, exit 1).
        assert result.split(":")[0] in ("MalformedEvidence", "CertificateChainInvalid"), result
        seen[result.split(":")[0]] += 1
    assert seen["CertificateChainInvalid"] > 500


def test_product_detection_order(testvectors: Path) -> None:
    milan = TrustedRoots.shipped("amd-milan")
    chain = AmdChain(ark=milan.anchors[0], ask=milan.intermediates[0], leaf=milan.anchors[0])
    v2 = SnpReport.from_bytes(snp_vector(testvectors, "milan-v2").report)
    v5 = SnpReport.from_bytes(snp_vector(testvectors, "genoa-v5").report)
    named = EndorsementExtensions(0, "Genoa", {})
    unnamed = EndorsementExtensions(0, "Bergamo-A0", {})
    assert detect_product(v5, unnamed, chain)[0] == "genoa"  # CPUID first
    assert detect_product(v2, named, chain)[0] == "genoa"  # then the certificate's name
    product, check = detect_product(v2, unnamed, chain)  # then the trusted root's name
    assert (product, check.detail) == ("milan", "Milan, from the trusted root")
    simulated = replace(chain, ark=milan.intermediates[0])  # a root that names no product
    with pytest.raises(CouldNotCheck, match="Bergamo-A0"):
        detect_product(v2, unnamed, simulated)
    with pytest.raises(BindingMismatch, match="CPUID says Genoa"):
        detect_product(v5, EndorsementExtensions(0, "Milan-B0", {}), chain)
