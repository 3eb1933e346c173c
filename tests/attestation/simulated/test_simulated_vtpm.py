"""simulated-vtpm: evidence that verifies with the simulator's CA, and with nothing else."""

from __future__ import annotations

from pathlib import Path

import pytest

from attestation.evidence import EvidenceProvider
from attestation.simulated.vtpm_provider import CA_CERT, CA_KEY, SimulatedVtpmProvider
from tests.helpers.azure_hardware import NOW
from verifier.errors import CertificateChainInvalid
from verifier.trust import TrustedRoots
from verifier.vtpm import verify_vtpm

REPORT_DATA = bytes(range(64))


def test_evidence_verifies_with_the_state_dir_as_roots(tmp_path: Path) -> None:
    provider = SimulatedVtpmProvider(tmp_path / "state", now=NOW)
    assert isinstance(provider, EvidenceProvider)
    evidence = provider.get_evidence(REPORT_DATA)
    assert evidence.provider == "simulated-vtpm"
    claims = verify_vtpm(evidence, roots=TrustedRoots.from_paths([tmp_path / "state"]), now=NOW)
    assert claims.report_data == REPORT_DATA
    assert claims.details["binding"] == "ak-certificate"


def test_the_ca_is_kept_and_its_key_is_private(tmp_path: Path) -> None:
    first = SimulatedVtpmProvider(tmp_path, now=NOW)
    again = SimulatedVtpmProvider(tmp_path, now=NOW)
    assert again.ca.der == first.ca.der
    assert (tmp_path / CA_KEY).stat().st_mode & 0o077 == 0
    roots = TrustedRoots.from_paths([tmp_path])
    assert [c.subject for c in roots.anchors] == [first.ca.certificate.subject]
    assert (tmp_path / CA_CERT).exists()
    verify_vtpm(again.get_evidence(REPORT_DATA), roots=roots, now=NOW)


def test_another_simulator_s_ca_is_not_trusted(tmp_path: Path) -> None:
    evidence = SimulatedVtpmProvider(tmp_path / "a", now=NOW).get_evidence(REPORT_DATA)
    SimulatedVtpmProvider(tmp_path / "b", now=NOW)
    with pytest.raises(CertificateChainInvalid):
        verify_vtpm(evidence, roots=TrustedRoots.from_paths([tmp_path / "b"]), now=NOW)
