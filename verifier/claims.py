"""What a verified piece of evidence claims, and the record of what was checked.

Platform verifiers (``verifier.snp`` and siblings) check signatures and chains and return
:class:`VerifiedEvidence`; they apply no policy. :mod:`verifier.policy` then judges the
claims. Keeping the two apart means a signature check can never be "configured away".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any


@dataclass(frozen=True)
class Check:
    """One check that passed: its dotted name and a human sentence of what it showed."""

    name: str
    detail: str

    def to_dict(self) -> dict[str, str]:
        return {"name": self.name, "detail": self.detail}


@dataclass(frozen=True)
class VerifiedEvidence:
    """Claims of evidence whose signatures and certificate chains verified.

    - ``measurements``: name -> lowercase hex (``measurement`` for SNP; ``mrtd``,
      ``rtmr0``.. for TDX; ``pcr0``.. for Nitro and vTPM).
    - ``debug``: whether the platform says the guest can be debugged.
    - ``tcb``: platform TCB claims (SNP: component SVNs; TDX: ``status`` and advisories).
    - ``signer``: what signed it, e.g. ``VCEK (Milan)``.
    - ``details``: other parsed fields worth showing (JSON-serialisable).
    """

    platform: str
    report_data: bytes
    measurements: Mapping[str, str]
    debug: bool
    tcb: Mapping[str, Any]
    signer: str
    checked_at: datetime
    checks: tuple[Check, ...] = ()
    details: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "measurements", MappingProxyType(dict(self.measurements)))
        object.__setattr__(self, "tcb", MappingProxyType(dict(self.tcb)))
        object.__setattr__(self, "details", MappingProxyType(dict(self.details)))

    def to_dict(self) -> dict[str, Any]:
        return {
            "platform": self.platform,
            "signer": self.signer,
            "report_data": self.report_data.hex(),
            "measurements": dict(self.measurements),
            "debug": self.debug,
            "tcb": dict(self.tcb),
            "checked_at": self.checked_at.isoformat(),
            "checks": [c.to_dict() for c in self.checks],
            "details": dict(self.details),
        }
