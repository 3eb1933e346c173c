"""Shared SEV-SNP test material: the real vectors as Evidence, and one simulator state.

RSA-4096 generation is slow, so every test that needs the simulator shares one state
directory per session (``simulated_state_dir``), created on first use.
"""

from __future__ import annotations

import atexit
import functools
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from attestation.evidence import Evidence

# name -> (shipped roots, a time inside the vector's validity window; see the README)
VECTORS = {
    "milan-v2": ("amd-milan", datetime(2025, 1, 1, tzinfo=UTC)),
    "milan-v2-debug": ("amd-milan", datetime(2025, 1, 1, tzinfo=UTC)),
    "genoa-v5": ("amd-genoa", datetime(2025, 9, 1, tzinfo=UTC)),
}


def snp_vector(testvectors: Path, name: str) -> Evidence:
    """The report and VCEK of vector ``name`` as evidence binding the report's REPORT_DATA."""
    report = (testvectors / "snp" / f"{name}.report.bin").read_bytes()
    return Evidence(
        platform="sev-snp",
        report=report,
        report_data=report[0x50:0x90],
        provider="testvector",
        certificates={"vcek": (testvectors / "snp" / f"{name}.vcek.der").read_bytes()},
    )


@functools.cache
def simulated_state_dir() -> Path:
    """One simulator state directory for the whole session (removed at exit)."""
    path = Path(tempfile.mkdtemp(prefix="veritee-snp-sim-"))
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path / "state"
