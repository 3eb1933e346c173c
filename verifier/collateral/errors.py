"""Errors of the collateral layer, placed in the verifier's error tree.

::

    CouldNotCheck
    ├── CollateralUnavailable   no source had it (offline, not cached, fetch failed)
    └── CollateralExpired       what we have is outside its validity window at ``now``
    VerificationFailed
    └── CollateralInvalid       collateral that does not verify (signature, chain, shape)

Missing or stale collateral never yields "verified" and never "failed": no verdict was
possible, and a fresher copy could change it.
"""

from __future__ import annotations

from verifier.errors import CouldNotCheck, VerificationFailed


class CollateralUnavailable(CouldNotCheck):
    """No configured source could provide the collateral."""


class CollateralExpired(CouldNotCheck):
    """The collateral is not valid at the verification time (expired or not yet issued)."""


class CollateralInvalid(VerificationFailed):
    """The collateral itself does not verify: bad signature, bad issuer chain, bad shape."""
