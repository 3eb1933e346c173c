"""Attestation providers, chosen by name in the configuration (``[attestation] provider``).

=====================  ==============================================================
name                   provider
=====================  ==============================================================
``simulated-sev-snp``  :mod:`attestation.simulated.snp`: real SNP report bytes signed by
                       a local simulated AMD chain kept in ``state_dir``; ``measurement``
                       and ``product`` say what the simulated guest claims
=====================  ==============================================================

Real providers (configfs-tsm, ``/dev/sev-guest``, ``/dev/tdx_guest``, ``/dev/nsm``, a
vTPM) register here as they land.
"""

from __future__ import annotations

from attestation.evidence import EvidenceProvider
from attestation.simulated.snp import SimulatedSnpProvider
from enclave.errors import ConfigError
from enclave.settings import AttestationSettings

PROVIDERS: tuple[str, ...] = ("simulated-sev-snp",)


def load_provider(settings: AttestationSettings) -> EvidenceProvider:
    """The provider ``settings.provider`` names; :class:`ConfigError` if unknown or unusable."""
    if settings.provider == "simulated-sev-snp":
        if settings.state_dir is None:
            raise ConfigError(
                "simulated-sev-snp needs a state_dir for its simulated AMD chain",
                key="attestation.state_dir",
            )
        if settings.product not in ("milan", "genoa", "turin"):
            raise ConfigError("must be milan, genoa or turin", key="attestation.product")
        return SimulatedSnpProvider(
            settings.state_dir,
            product=settings.product,  # type: ignore[arg-type]  # checked just above
            measurement=settings.measurement or bytes(48),
        )
    raise ConfigError(f"unknown provider (known: {list(PROVIDERS)})", key="attestation.provider")
