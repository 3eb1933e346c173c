"""The operator's policy and trusted roots, read once from the attestation settings."""

from __future__ import annotations

from gateway.errors import ConfigError
from gateway.settings import AttestationSettings
from verifier.errors import BadInput
from verifier.policy import Policy
from verifier.trust import TrustedRoots


def load_trust(settings: AttestationSettings) -> tuple[Policy, TrustedRoots]:
    """The operator's policy and trusted roots; both must be given explicitly."""
    if settings.policy is None:
        raise ConfigError(
            "a policy file is required (see docs/policy.md)", key="attestation.policy"
        )
    if not settings.roots and not settings.shipped_roots:
        raise ConfigError(
            "give trusted roots (files or directories) or shipped_roots names",
            key="attestation.roots",
        )
    try:
        policy = Policy.load(settings.policy)
        roots = TrustedRoots()
        if settings.roots:
            roots = roots + TrustedRoots.from_paths(list(settings.roots))
        if settings.shipped_roots:
            roots = roots + TrustedRoots.shipped(*settings.shipped_roots)
    except BadInput as exc:
        raise ConfigError(exc.reason, key="attestation") from None
    except OSError as exc:
        raise ConfigError(f"{exc.strerror or exc}: {exc.filename}", key="attestation") from None
    return policy, roots
