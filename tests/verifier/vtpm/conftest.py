"""Fixtures of the verify_vtpm tests: a local AK CA, GCP-style evidence, fake hardware."""

from __future__ import annotations

from datetime import timedelta

import pytest

from attestation.evidence import Evidence
from attestation.providers.vtpm import VtpmProvider
from attestation.simulated.vtpm import SoftwareTpm
from attestation.simulated.vtpm_cloud import LocalCa, provision_gcp
from tests.helpers.azure_hardware import NOW
from tests.helpers.fake_hardware import FakeHardware
from tests.verifier.vtpm.support import REPORT_DATA


@pytest.fixture(scope="module")
def ca() -> LocalCa:
    return LocalCa.create("test AK CA", not_before=NOW - timedelta(days=30))


@pytest.fixture(scope="module")
def gcp(ca: LocalCa) -> tuple[SoftwareTpm, Evidence]:
    tpm = SoftwareTpm()
    tpm.extend(0, b"firmware")
    provision_gcp(tpm, ca, kind="ecc", not_before=NOW - timedelta(days=1))
    return tpm, VtpmProvider(tpm).get_evidence(REPORT_DATA)


@pytest.fixture
def hardware() -> FakeHardware:
    return FakeHardware()
