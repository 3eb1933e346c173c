"""Fetch collateral from Intel PCS and AMD KDS, with an on-disk cache.

The HTTP getter is injected (:mod:`verifier.collateral.http`), so tests run it against a
local server and an offline machine simply gets "could not check". The cache is a
:class:`DirectoryCollateral` layout holding the responses exactly as served: TDX
collateral is reused while valid at the verification time, AMD certificates forever
(a VCEK is bound to one chip and TCB), AMD CRLs until their next update.

Endpoints (v4 of Intel's API)::

    {pcs}/tdx/certification/v4/tcb?fmspc=<hex>        TCB-Info-Issuer-Chain header
    {pcs}/tdx/certification/v4/qe/identity             SGX-Enclave-Identity-Issuer-Chain
    {pcs}/sgx/certification/v4/pckcrl?ca=<ca>&encoding=der   SGX-PCK-CRL-Issuer-Chain
    {root_crl_url}                                      the Intel SGX Root CA CRL (DER)
    {kds}/vcek/v1/<product>/<hwid hex>?<tcb>           a VCEK (DER)
    {kds}/<vcek|vlek>/v1/<product>/cert_chain          ASK or ASVK, then ARK (PEM)
    {kds}/<vcek|vlek>/v1/<product>/crl                 the ARK's CRL (DER)
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TypeVar

from cryptography import x509

from attestation.errors import MalformedEvidence
from attestation.formats.pki import load_der_certificate
from verifier.collateral.directory import (
    AmdPaths,
    DirectoryCollateral,
    TdxPaths,
    amd_chain_from_pem,
    write_atomically,
)
from verifier.collateral.errors import CollateralUnavailable
from verifier.collateral.http import HttpGetter, HttpResponse, UrllibGetter
from verifier.collateral.model import (
    AmdChain,
    AmdKeyType,
    AmdProduct,
    AmdTcb,
    PckCa,
    TdxCollateral,
    crl_der,
)
from verifier.errors import BadInput

INTEL_PCS_URL = "https://api.trustedservices.intel.com"
INTEL_ROOT_CA_CRL_URL = "https://certificates.trustedservices.intel.com/IntelSGXRootCA.der"
AMD_KDS_URL = "https://kdsintf.amd.com"

T = TypeVar("T")
_TCB_INFO_CHAIN = ("tcb-info-issuer-chain", "sgx-tcb-info-issuer-chain")
_QE_IDENTITY_CHAIN = ("sgx-enclave-identity-issuer-chain",)
_PCK_CRL_CHAIN = ("sgx-pck-crl-issuer-chain",)


class PcsKdsFetcher:
    """A :class:`~verifier.collateral.source.CollateralSource` that fetches over HTTP."""

    def __init__(
        self,
        getter: HttpGetter | None = None,
        *,
        cache_dir: Path | None = None,
        pcs_url: str = INTEL_PCS_URL,
        root_crl_url: str = INTEL_ROOT_CA_CRL_URL,
        kds_url: str = AMD_KDS_URL,
    ) -> None:
        self.getter: HttpGetter = getter if getter is not None else UrllibGetter()
        self.cache_dir = cache_dir
        self.pcs_url = pcs_url.rstrip("/")
        self.root_crl_url = root_crl_url
        self.kds_url = kds_url.rstrip("/")

    # Intel TDX

    def tdx_collateral(self, *, fmspc: str, ca: PckCa, now: datetime) -> TdxCollateral:
        cached = self._cached(lambda d: d.tdx_collateral(fmspc=fmspc, ca=ca, now=now))
        if cached is not None and cached.valid_at(now):
            return cached
        try:
            return self._fetch_tdx(fmspc.lower(), ca)
        except CollateralUnavailable as exc:
            if cached is None:
                raise
            raise CollateralUnavailable(
                "collateral",
                f"cached TDX collateral expired at {cached.not_after().isoformat()} "
                f"and refreshing it failed: {exc.reason}",
            ) from None

    def _fetch_tdx(self, fmspc: str, ca: PckCa) -> TdxCollateral:
        base = f"{self.pcs_url}/tdx/certification/v4"
        tcb = self._get(f"{base}/tcb?fmspc={urllib.parse.quote(fmspc)}")
        qe = self._get(f"{base}/qe/identity")
        crl = self._get(f"{self.pcs_url}/sgx/certification/v4/pckcrl?ca={ca}&encoding=der")
        root = self._get(self.root_crl_url)
        files = {
            "tcb_info": tcb.body,
            "tcb_info_chain": _chain_header(tcb, _TCB_INFO_CHAIN),
            "qe_identity": qe.body,
            "qe_identity_chain": _chain_header(qe, _QE_IDENTITY_CHAIN),
            "pck_crl": crl.body,
            "pck_crl_chain": _chain_header(crl, _PCK_CRL_CHAIN),
            "root_crl": root.body,
        }
        try:
            collateral = TdxCollateral.from_pcs_responses(
                tcb_info_response=files["tcb_info"],
                tcb_info_issuer_chain=files["tcb_info_chain"],
                qe_identity_response=files["qe_identity"],
                qe_identity_issuer_chain=files["qe_identity_chain"],
                pck_crl=files["pck_crl"],
                pck_crl_issuer_chain=files["pck_crl_chain"],
                root_ca_crl=files["root_crl"],
                origin=self.pcs_url,
            )
        except BadInput as exc:
            reason = f"PCS served malformed collateral: {exc.reason}"
            raise CollateralUnavailable("collateral", reason) from None
        if self.cache_dir is not None:
            paths = TdxPaths(self.cache_dir, fmspc, ca)
            for name, data in files.items():
                write_atomically(getattr(paths, name), data)
        return collateral

    # AMD SEV-SNP

    def amd_vcek(self, *, product: AmdProduct, hwid: bytes, tcb: AmdTcb) -> bytes:
        cached = self._cached(lambda d: d.amd_vcek(product=product, hwid=hwid, tcb=tcb))
        if cached is not None:
            return cached
        url = f"{self.kds_url}/vcek/v1/{product}/{hwid.hex()}?{tcb.query()}"
        der = self._get(url).body
        try:
            load_der_certificate(der, "vcek")
        except MalformedEvidence:
            reason = f"{url} did not serve a DER certificate"
            raise CollateralUnavailable("collateral", reason) from None
        self._store(lambda root: AmdPaths(root, product, "vcek").vcek(hwid, tcb), der)
        return der

    def amd_chain(self, *, product: AmdProduct, key_type: AmdKeyType) -> AmdChain:
        cached = self._cached(lambda d: d.amd_chain(product=product, key_type=key_type))
        if cached is not None:
            return cached
        url = f"{self.kds_url}/{key_type}/v1/{product}/cert_chain"
        pem = self._get(url).body
        try:
            chain = amd_chain_from_pem(pem, url)
        except BadInput as exc:
            raise CollateralUnavailable("collateral", exc.reason) from None
        self._store(lambda root: AmdPaths(root, product, key_type).chain, pem)
        return chain

    def amd_crl(self, *, product: AmdProduct, key_type: AmdKeyType, now: datetime) -> bytes:
        cached = self._cached(lambda d: d.amd_crl(product=product, key_type=key_type, now=now))
        if cached is not None:
            next_update = x509.load_der_x509_crl(cached).next_update_utc
            if next_update is not None and next_update >= now:
                return cached
        url = f"{self.kds_url}/{key_type}/v1/{product}/crl"
        try:
            der = crl_der(self._get(url).body, url)
        except BadInput as exc:
            raise CollateralUnavailable("collateral", exc.reason) from None
        self._store(lambda root: AmdPaths(root, product, key_type).crl, der)
        return der

    # plumbing

    def _get(self, url: str) -> HttpResponse:
        try:
            response = self.getter.get(url)
        except OSError as exc:
            raise CollateralUnavailable("collateral", f"fetching {url} failed: {exc}") from None
        if response.status != 200:
            raise CollateralUnavailable("collateral", f"{url} answered HTTP {response.status}")
        return response

    def _cached(self, read: Callable[[DirectoryCollateral], T]) -> T | None:
        if self.cache_dir is None:
            return None
        try:
            return read(DirectoryCollateral(self.cache_dir))
        except (CollateralUnavailable, BadInput, ValueError):
            return None  # absent or damaged: fetch again

    def _store(self, where: Callable[[Path], Path], data: bytes) -> None:
        if self.cache_dir is not None:
            write_atomically(where(self.cache_dir), data)


def _chain_header(response: HttpResponse, names: tuple[str, ...]) -> bytes:
    for name in names:
        value = response.header(name)
        if value:
            return urllib.parse.unquote(value).encode()
    raise CollateralUnavailable("collateral", f"the response lacks the {names[0]} header")
