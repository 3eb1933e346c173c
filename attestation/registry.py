"""Providers by name, and ``auto``: which platform this machine is.

Names: ``auto``, ``sev-snp``, ``tdx``, ``nitro``, ``vtpm`` (real devices) and
``simulated-sev-snp``, ``simulated-tdx``, ``simulated-nitro`` (local roots; a verifier
trusts them only when explicitly given those roots).

``auto`` looks for the guest devices in this fixed order and takes the first present:

1. ``/dev/sev-guest`` or a configfs-tsm report directory -> ``sev-snp`` (GCP, bare metal)
2. ``/dev/tdx_guest`` -> ``tdx``
3. ``/dev/nsm`` -> ``nitro`` (AWS Nitro Enclaves)
4. ``/dev/tpmrm0`` or ``/dev/tpm0`` -> ``vtpm`` (Azure confidential VMs, where the hardware
   report sits behind the paravisor's vTPM)

Hardware first: a GCP SNP guest has both ``/dev/sev-guest`` and a vTPM, and the direct
hardware report is the stronger evidence. Simulated platforms are never chosen by ``auto``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from attestation.errors import PlatformUnavailable
from attestation.evidence import EvidenceProvider

Factory = Callable[[Path | None, Mapping[str, Any]], EvidenceProvider]

DETECTION_ORDER: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("sev-snp", ("dev/sev-guest", "sys/kernel/config/tsm/report")),
    ("tdx", ("dev/tdx_guest",)),
    ("nitro", ("dev/nsm",)),
    ("vtpm", ("dev/tpmrm0", "dev/tpm0")),
)


def detect_platform(root: Path = Path("/")) -> str:
    """The first platform of ``DETECTION_ORDER`` whose device exists under ``root``."""
    for platform, paths in DETECTION_ORDER:
        if any((root / path).exists() for path in paths):
            return platform
    raise PlatformUnavailable(
        "no confidential-computing device found (looked for "
        + ", ".join("/" + p for _, paths in DETECTION_ORDER for p in paths)
        + "); use a simulated platform for development"
    )


def _state(state_dir: Path | None, name: str) -> Path:
    if state_dir is None:
        raise ValueError(f"{name} needs a state directory for its local roots")
    return state_dir


def _simulated_snp(state_dir: Path | None, options: Mapping[str, Any]) -> EvidenceProvider:
    from attestation.simulated.snp import SimulatedSnpProvider

    kwargs = dict(options)
    if isinstance(kwargs.get("measurement"), str):
        kwargs["measurement"] = bytes.fromhex(kwargs["measurement"])
    return SimulatedSnpProvider(_state(state_dir, "simulated-sev-snp"), **kwargs)


def _simulated_nitro(state_dir: Path | None, options: Mapping[str, Any]) -> EvidenceProvider:
    from attestation.simulated.nitro import SimulatedNitro

    pcrs = {int(k): bytes.fromhex(v) for k, v in dict(options.get("pcrs", {})).items()}
    return SimulatedNitro.from_state_dir(_state(state_dir, "simulated-nitro"), pcrs=pcrs or None)


def _simulated_tdx(state_dir: Path | None, options: Mapping[str, Any]) -> EvidenceProvider:
    from datetime import UTC, datetime

    from attestation.simulated.tdx import SimulatedTdx, SimulatedTdxConfig, SimulatedTdxProvider

    config = SimulatedTdxConfig(debug=bool(options.get("debug", False)))
    if "mrtd" in options:
        config = replace(config, mrtd=bytes.fromhex(str(options["mrtd"])))
    simulator = SimulatedTdx.open(
        _state(state_dir, "simulated-tdx"), now=datetime.now(UTC), config=config
    )
    return SimulatedTdxProvider(simulator)


def _tdx(_state_dir: Path | None, options: Mapping[str, Any]) -> EvidenceProvider:
    from attestation.providers.tdx import tdx_provider

    return tdx_provider()


def _vtpm(_state_dir: Path | None, options: Mapping[str, Any]) -> EvidenceProvider:
    from attestation.providers.vtpm.provider import VtpmProvider
    from attestation.providers.vtpm.tss import DEFAULT_TCTI, TssTpm

    return VtpmProvider(
        TssTpm(str(options.get("tcti", DEFAULT_TCTI))), ak=options.get("ak", "auto")
    )


def _simulated_vtpm(state_dir: Path | None, options: Mapping[str, Any]) -> EvidenceProvider:
    from attestation.simulated.vtpm_provider import SimulatedVtpmProvider

    return SimulatedVtpmProvider(_state(state_dir, "simulated-vtpm"))


def _sev_snp(_state_dir: Path | None, options: Mapping[str, Any]) -> EvidenceProvider:
    from attestation.providers.configfs_tsm import DEFAULT_ROOT
    from attestation.providers.snp import ConfigfsTsmSnpProvider, SevGuestSnpProvider

    vmpl = int(options.get("vmpl", 0))
    if Path(options.get("configfs_root", DEFAULT_ROOT)).exists():
        return ConfigfsTsmSnpProvider(
            root=Path(options.get("configfs_root", DEFAULT_ROOT)), vmpl=vmpl
        )
    return SevGuestSnpProvider(vmpl=vmpl)


def _nitro(_state_dir: Path | None, options: Mapping[str, Any]) -> EvidenceProvider:
    from attestation.providers.nitro import NitroNsmProvider

    return NitroNsmProvider()


FACTORIES: dict[str, Factory] = {
    "simulated-sev-snp": _simulated_snp,
    "simulated-nitro": _simulated_nitro,
    "simulated-tdx": _simulated_tdx,
    "sev-snp": _sev_snp,
    "tdx": _tdx,
    "simulated-vtpm": _simulated_vtpm,
    "vtpm": _vtpm,
    "nitro": _nitro,
}


def create_provider(
    name: str,
    *,
    state_dir: Path | None = None,
    options: Mapping[str, Any] | None = None,
) -> EvidenceProvider:
    """Build the provider called ``name`` (``auto`` detects the platform)."""
    if name == "auto":
        name = detect_platform()
    factory = FACTORIES.get(name)
    if factory is None:
        raise ValueError(
            f"unknown attestation provider {name!r}; known: {[*sorted(FACTORIES), 'auto']}"
        )
    return factory(state_dir, options or {})
