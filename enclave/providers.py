"""Attestation providers, chosen by name in the configuration (``[attestation] provider``).

=====================  ==============================================================
name                   provider
=====================  ==============================================================
``simulated-sev-snp``  :mod:`attestation.simulated.snp`: real SNP report bytes signed by
                       a local simulated AMD chain kept in ``state_dir``
=====================  ==============================================================

Real providers (configfs-tsm, ``/dev/sev-guest``, ``/dev/tdx_guest``, ``/dev/nsm``, a
vTPM) register here as they land.
"""

from __future__ import annotations

from attestation.evidence import EvidenceProvider
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
        raise ConfigError("simulated-sev-snp is not available yet", key="attestation.provider")
    raise ConfigError(f"unknown provider (known: {list(PROVIDERS)})", key="attestation.provider")
