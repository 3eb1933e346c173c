"""The collateral interface every platform verifier uses, and its simplest implementations.

A :class:`CollateralSource` hands out vendor collateral by what identifies it: an FMSPC
and PCK CA for Intel TDX, a product, chip ID and reported TCB for AMD SEV-SNP. It raises
:class:`CollateralUnavailable` (a "could not check") when it has nothing to give. It never
verifies anything: the platform verifier checks every byte it returns.

Implementations: :class:`StaticCollateral` (in memory, also what bundles load into),
:class:`~verifier.collateral.directory.DirectoryCollateral` (an offline directory),
:class:`~verifier.collateral.fetcher.PcsKdsFetcher` (Intel PCS and AMD KDS over HTTP,
with an on-disk cache), :class:`NoCollateral`, and :class:`FirstAvailable` to chain them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Protocol, TypeVar, runtime_checkable

from verifier.collateral.errors import CollateralUnavailable
from verifier.collateral.model import (
    AmdChain,
    AmdKeyType,
    AmdProduct,
    AmdTcb,
    PckCa,
    TdxCollateral,
)

T = TypeVar("T")


@runtime_checkable
class CollateralSource(Protocol):
    def tdx_collateral(self, *, fmspc: str, ca: PckCa, now: datetime) -> TdxCollateral:
        """TCB info, QE identity, PCK CRL and root CA CRL for ``fmspc`` (hex) and ``ca``.

        ``now`` lets a caching source prefer a copy that is valid at that time.
        """
        ...

    def amd_vcek(self, *, product: AmdProduct, hwid: bytes, tcb: AmdTcb) -> bytes:
        """The DER VCEK certificate of chip ``hwid`` at reported TCB ``tcb``."""
        ...

    def amd_chain(self, *, product: AmdProduct, key_type: AmdKeyType) -> AmdChain:
        """The ASK (``vcek``) or ASVK (``vlek``) and the ARK of ``product``."""
        ...

    def amd_crl(self, *, product: AmdProduct, key_type: AmdKeyType, now: datetime) -> bytes:
        """The DER CRL the ARK issues for ``product``'s ``key_type`` intermediates."""
        ...


def unavailable(what: str, where: str) -> CollateralUnavailable:
    return CollateralUnavailable("collateral", f"no {what} in {where}")


class NoCollateral:
    """A source with nothing: every request is "could not check"."""

    def tdx_collateral(self, *, fmspc: str, ca: PckCa, now: datetime) -> TdxCollateral:
        raise unavailable(f"TDX collateral for FMSPC {fmspc}", "no collateral source")

    def amd_vcek(self, *, product: AmdProduct, hwid: bytes, tcb: AmdTcb) -> bytes:
        raise unavailable(f"{product} VCEK", "no collateral source")

    def amd_chain(self, *, product: AmdProduct, key_type: AmdKeyType) -> AmdChain:
        raise unavailable(f"{product} {key_type} chain", "no collateral source")

    def amd_crl(self, *, product: AmdProduct, key_type: AmdKeyType, now: datetime) -> bytes:
        raise unavailable(f"{product} {key_type} CRL", "no collateral source")


class StaticCollateral:
    """Collateral held in memory: the shipped fake, and what bundle files load into."""

    def __init__(
        self,
        *,
        tdx: Iterable[TdxCollateral] = (),
        amd_vceks: Mapping[tuple[str, bytes, AmdTcb], bytes] | None = None,
        amd_chains: Mapping[tuple[str, str], AmdChain] | None = None,
        amd_crls: Mapping[tuple[str, str], bytes] | None = None,
        name: str = "memory",
    ) -> None:
        self._tdx = tuple(tdx)
        self._vceks = dict(amd_vceks or {})
        self._chains = dict(amd_chains or {})
        self._crls = dict(amd_crls or {})
        self.name = name

    @property
    def tdx(self) -> tuple[TdxCollateral, ...]:
        return self._tdx

    def tdx_collateral(self, *, fmspc: str, ca: PckCa, now: datetime) -> TdxCollateral:
        matches = [c for c in self._tdx if c.serves(fmspc, ca)]
        if not matches:
            raise unavailable(f"TDX collateral for FMSPC {fmspc} ({ca} CA)", self.name)
        windows = [(c, c.window()) for c in matches]
        valid = [(w[0], c) for c, w in windows if w is not None and w[0] <= now <= w[1]]
        if valid:
            return max(valid, key=lambda pair: pair[0])[1]  # the newest valid set
        # nothing valid: the longest-lived (or an unreadable) set; the verifier will say why
        return max(windows, key=lambda pair: pair[1][1] if pair[1] else now)[0]

    def amd_vcek(self, *, product: AmdProduct, hwid: bytes, tcb: AmdTcb) -> bytes:
        try:
            return self._vceks[(product, hwid, tcb)]
        except KeyError:
            raise unavailable(f"{product} VCEK for this chip and TCB", self.name) from None

    def amd_chain(self, *, product: AmdProduct, key_type: AmdKeyType) -> AmdChain:
        try:
            return self._chains[(product, key_type)]
        except KeyError:
            raise unavailable(f"{product} {key_type} chain", self.name) from None

    def amd_crl(self, *, product: AmdProduct, key_type: AmdKeyType, now: datetime) -> bytes:
        try:
            return self._crls[(product, key_type)]
        except KeyError:
            raise unavailable(f"{product} {key_type} CRL", self.name) from None


class FirstAvailable:
    """Ask each source in turn; the first that has the collateral answers."""

    def __init__(self, *sources: CollateralSource) -> None:
        if not sources:
            raise ValueError("FirstAvailable needs at least one source")
        self._sources = sources

    def _first(self, ask: Callable[[CollateralSource], T]) -> T:
        reasons: list[str] = []
        for source in self._sources:
            try:
                return ask(source)
            except CollateralUnavailable as exc:
                reasons.append(exc.reason)
        raise CollateralUnavailable("collateral", "; ".join(reasons))

    def tdx_collateral(self, *, fmspc: str, ca: PckCa, now: datetime) -> TdxCollateral:
        return self._first(lambda s: s.tdx_collateral(fmspc=fmspc, ca=ca, now=now))

    def amd_vcek(self, *, product: AmdProduct, hwid: bytes, tcb: AmdTcb) -> bytes:
        return self._first(lambda s: s.amd_vcek(product=product, hwid=hwid, tcb=tcb))

    def amd_chain(self, *, product: AmdProduct, key_type: AmdKeyType) -> AmdChain:
        return self._first(lambda s: s.amd_chain(product=product, key_type=key_type))

    def amd_crl(self, *, product: AmdProduct, key_type: AmdKeyType, now: datetime) -> bytes:
        return self._first(lambda s: s.amd_crl(product=product, key_type=key_type, now=now))
