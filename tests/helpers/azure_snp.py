"""A simulated SEV-SNP chip for Azure-style HCL reports, at a fixed time.

Its own simulator state (not the SNP tests' shared one, which is created at the wall-clock
time), so that every vTPM test verifies at the fixed ``NOW``. Created once per session.
"""

from __future__ import annotations

import atexit
import functools
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from attestation.simulated.snp import SimulatedSnpProvider
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
    return {"vcek": snp_chip().vcek_der}


def snp_roots() -> TrustedRoots:
    return TrustedRoots.from_paths([snp_chip().roots_dir])
