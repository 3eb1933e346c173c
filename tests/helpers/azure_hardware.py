"""Simulated SEV-SNP and TDX hardware for Azure-style HCL reports, at a fixed time.

Their own simulator states (not the SNP tests' shared one, which is created at the
wall-clock time), so that every vTPM test verifies at the fixed ``NOW``. Created once per
session.
"""

from __future__ import annotations

import atexit
import functools
import shutil
import tempfile
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from attestation.evidence import Evidence
from attestation.formats.tdx import TdReport
from attestation.simulated.snp import SimulatedSnpProvider
from attestation.simulated.tdx import SimulatedTdx
from verifier.trust import TrustedRoots

NOW = datetime(2026, 6, 1, tzinfo=UTC)
MEASUREMENT = bytes.fromhex("a5" * 48)


@functools.cache
def snp_chip() -> SimulatedSnpProvider:
    path = Path(tempfile.mkdtemp(prefix="veritee-vtpm-snp-"))
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return SimulatedSnpProvider(path / "state", measurement=MEASUREMENT, now=NOW)


def snp_sign(report_data: bytes) -> bytes:
    """The hardware signer of :func:`provision_azure`: a signed SNP report."""
    return snp_chip().report(report_data).to_bytes()


def snp_certificates() -> dict[str, bytes]:
    """What Azure's instance metadata service would hand out: the VCEK."""
    return {"vcek": snp_chip().certificate_der}


def snp_roots() -> TrustedRoots:
    return TrustedRoots.from_paths([snp_chip().roots_dir])


@functools.cache
def td_platform() -> SimulatedTdx:
    return SimulatedTdx.create(now=NOW)


def td_quote(tdreport: bytes) -> bytes:
    """What Azure's quoting service does: a TD quote for the TDREPORT's REPORTDATA."""
    return td_platform().quote(TdReport.from_bytes(tdreport).report_data)


def with_td_collateral(evidence: Evidence) -> Evidence:
    """The evidence with the TDX collateral (TCB info, QE identity, CRLs) attached."""
    return replace(evidence, collateral=td_platform().collateral(NOW))


def td_roots() -> TrustedRoots:
    return TrustedRoots.from_certificates([td_platform().pki.root.cert])
