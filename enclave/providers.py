"""The attestation provider the configuration names (``[attestation] provider``).

Names and their options are those of :mod:`attestation.registry` (``auto``, ``sev-snp``,
``tdx``, ``nitro``, ``vtpm``, ``simulated-sev-snp``, ``simulated-tdx``, ...): the
``[attestation.options]`` table is handed to the provider as it is, ``state_dir`` to the
simulated ones for their local roots.
"""

from __future__ import annotations

from attestation.errors import AttestationError
from attestation.evidence import EvidenceProvider
from attestation.registry import create_provider
from enclave.errors import ConfigError
from enclave.settings import AttestationSettings


def load_provider(settings: AttestationSettings) -> EvidenceProvider:
    """Build the configured provider; :class:`ConfigError` when it cannot be built here."""
    try:
        return create_provider(
            settings.provider, state_dir=settings.state_dir, options=settings.options
        )
    except (ValueError, TypeError, AttestationError) as exc:
        raise ConfigError(str(exc), key="attestation.provider") from None
