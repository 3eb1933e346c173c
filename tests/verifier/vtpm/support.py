"""Shared material for the verify_vtpm tests: constants, evidence builders, assertions."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from attestation.evidence import Evidence
from attestation.formats.tpm import PcrSelection, Scheme, TpmPublic
from attestation.formats.tpm.constants import TPM_RH_ENDORSEMENT
from attestation.simulated.vtpm import SoftwareTpm
from attestation.simulated.vtpm_cloud import LocalCa
from tests.helpers.azure_hardware import NOW
from verifier.claims import VerifiedEvidence
from verifier.trust import TrustedRoots
from verifier.vtpm import verify_vtpm

REPORT_DATA = hashlib.sha512(b"keyset and nonce").digest()
PCRS = PcrSelection.of("sha256", range(24))


def verify(evidence: Evidence, ca: LocalCa, **kwargs: Any) -> VerifiedEvidence:
    kwargs.setdefault("roots", TrustedRoots((ca.certificate,)))
    kwargs.setdefault("now", NOW)
    return verify_vtpm(evidence, **kwargs)


def quote_with(tpm: SoftwareTpm, template: TpmPublic, scheme: Scheme) -> Evidence:
    """Evidence quoted by a key made from ``template``, with an explicit signing scheme."""
    key = tpm.create_primary(TPM_RH_ENDORSEMENT, template.to_bytes())
    attest, signature = tpm.quote(key, REPORT_DATA, PCRS, scheme)
    extra = {"signature": signature, "ak_public": key.public, "pcrs": tpm.pcr_read(PCRS).to_bytes()}
    return Evidence("vtpm", attest, REPORT_DATA, "test", extra=extra)


def certified(evidence: Evidence, ca: LocalCa) -> Evidence:
    ak = TpmPublic.from_bytes(evidence.extra["ak_public"])
    cert = ca.issue_ak_certificate(ak, not_before=NOW - timedelta(days=1))
    return replace(evidence, certificates={"ak": cert})


def expect(error: type[Exception], check: str, evidence: Evidence, ca: LocalCa, **kw: Any) -> str:
    with pytest.raises(error) as info:
        verify(evidence, ca, **kw)
    assert getattr(info.value, "check", None) == check
    return str(info.value)
