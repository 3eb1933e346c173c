"""The collateral layer shared by every platform verifier.

Public interface::

    CollateralSource           the protocol: tdx_collateral / amd_vcek / amd_chain / amd_crl
    TdxCollateral, AmdChain, AmdTcb, PckCa, AmdProduct, AmdKeyType
    StaticCollateral           in memory (also what bundles load into)
    DirectoryCollateral        an offline directory (layout in its module)
    load_bundle, load_bundle_file, dump_bundle    JSON bundles (dcap-qvl's format loads)
    PcsKdsFetcher              Intel PCS + AMD KDS over an injectable HTTP getter, cached
    FirstAvailable, NoCollateral
    CollateralUnavailable, CollateralExpired (could not check), CollateralInvalid (failed)
"""

from verifier.collateral.bundle import BUNDLE_TYPE, dump_bundle, load_bundle, load_bundle_file
from verifier.collateral.directory import DirectoryCollateral
from verifier.collateral.errors import (
    CollateralExpired,
    CollateralInvalid,
    CollateralUnavailable,
)
from verifier.collateral.fetcher import PcsKdsFetcher
from verifier.collateral.http import HttpGetter, HttpResponse, UrllibGetter
from verifier.collateral.model import (
    AmdChain,
    AmdKeyType,
    AmdProduct,
    AmdTcb,
    PckCa,
    TdxCollateral,
)
from verifier.collateral.open import open_collateral
from verifier.collateral.source import (
    CollateralSource,
    FirstAvailable,
    NoCollateral,
    StaticCollateral,
)

__all__ = [
    "BUNDLE_TYPE",
    "AmdChain",
    "AmdKeyType",
    "AmdProduct",
    "AmdTcb",
    "CollateralExpired",
    "CollateralInvalid",
    "CollateralSource",
    "CollateralUnavailable",
    "DirectoryCollateral",
    "FirstAvailable",
    "HttpGetter",
    "HttpResponse",
    "NoCollateral",
    "PckCa",
    "PcsKdsFetcher",
    "StaticCollateral",
    "TdxCollateral",
    "UrllibGetter",
    "dump_bundle",
    "load_bundle",
    "load_bundle_file",
    "open_collateral",
]
