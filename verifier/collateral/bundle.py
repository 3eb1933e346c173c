"""Collateral bundles: one JSON file carrying everything an offline verification needs.

Two shapes load (see ``docs/attestation.md``, "Collateral bundles"):

1. dcap-qvl's ``QuoteCollateralV3`` object, as its ``sample/*_collateral.json``::

       {"tcb_info": "<raw JSON text, as signed>", "tcb_info_signature": "<hex r‖s>",
        "tcb_info_issuer_chain": "<PEM>", "qe_identity": "…", "qe_identity_signature": "…",
        "qe_identity_issuer_chain": "<PEM>", "pck_crl": "<hex DER>",
        "pck_crl_issuer_chain": "<PEM>", "root_ca_crl": "<hex DER>"}

2. a veritee bundle, which holds any number of those plus AMD certificates::

       {"type": "veritee.collateral.v1",
        "tdx": [<object as in 1>, …],
        "amd": {"chains": [{"product": "Milan", "key_type": "vcek",
                            "cert_chain": "<PEM: ASK then ARK>", "crl": "<hex DER>"}],
                "vceks": [{"product": "Milan", "hwid": "<hex>",
                           "tcb": {"bootloader": 3, "tee": 0, "snp": 8, "microcode": 115},
                           "cert": "<hex DER>"}]}}
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, cast

import orjson

from verifier.collateral.directory import amd_chain_from_pem
from verifier.collateral.model import (
    AMD_PRODUCTS,
    AmdChain,
    AmdProduct,
    AmdTcb,
    TdxCollateral,
    crl_der,
    unhex,
)
from verifier.collateral.source import StaticCollateral
from verifier.errors import BadInput

BUNDLE_TYPE = "veritee.collateral.v1"
_CHECK = "collateral.bundle"


def load_bundle(data: bytes, origin: str = "bundle") -> StaticCollateral:
    """Parse a bundle (either shape) into an in-memory source; BadInput if malformed."""
    try:
        doc = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise BadInput(_CHECK, f"{origin} is not JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise BadInput(_CHECK, f"{origin} must be a JSON object")
    if "type" not in doc:
        return StaticCollateral(tdx=[TdxCollateral.from_bundle_dict(doc, origin)], name=origin)
    if doc["type"] != BUNDLE_TYPE:
        raise BadInput(_CHECK, f"{origin}: unknown bundle type {doc['type']!r}")
    tdx = doc.get("tdx", [])
    amd = doc.get("amd", {})
    if not isinstance(tdx, list) or not isinstance(amd, dict):
        raise BadInput(_CHECK, f"{origin}: 'tdx' is a list and 'amd' an object")
    chains: dict[tuple[str, str], AmdChain] = {}
    crls: dict[tuple[str, str], bytes] = {}
    for entry in _entries(amd, "chains"):
        key = (_product(entry), _key_type(entry))
        chains[key] = amd_chain_from_pem(_text(entry, "cert_chain").encode(), f"{origin} chain")
        if entry.get("crl") is not None:
            crls[key] = crl_der(unhex(entry["crl"], "crl"), f"{origin} crl")
    vceks: dict[tuple[str, bytes, AmdTcb], bytes] = {}
    for entry in _entries(amd, "vceks"):
        tcb = entry.get("tcb")
        if not isinstance(tcb, dict):
            raise BadInput(_CHECK, f"{origin}: a VCEK entry needs a 'tcb' object")
        try:
            amd_tcb = AmdTcb(**cast(dict[str, Any], tcb))
        except TypeError as exc:
            raise BadInput(_CHECK, f"{origin}: bad VCEK tcb: {exc}") from None
        hwid = unhex(entry.get("hwid"), "hwid")
        vceks[(_product(entry), hwid, amd_tcb)] = unhex(entry.get("cert"), "cert")
    return StaticCollateral(
        tdx=[TdxCollateral.from_bundle_dict(item, origin) for item in tdx],
        amd_vceks=vceks,
        amd_chains=chains,
        amd_crls=crls,
        name=origin,
    )


def load_bundle_file(path: Path) -> StaticCollateral:
    return load_bundle(Path(path).read_bytes(), str(path))


def dump_bundle(
    *,
    tdx: Iterable[TdxCollateral] = (),
    amd_chains: Mapping[tuple[AmdProduct, str], tuple[bytes, bytes | None]] | None = None,
) -> bytes:
    """A veritee bundle for TDX sets and AMD chains (``(product, key_type) -> (PEM, CRL)``)."""
    chains = [
        {"product": p, "key_type": k, "cert_chain": pem.decode(), "crl": crl.hex() if crl else None}
        for (p, k), (pem, crl) in (amd_chains or {}).items()
    ]
    doc = {
        "type": BUNDLE_TYPE,
        "tdx": [c.to_bundle_dict() for c in tdx],
        "amd": {"chains": chains, "vceks": []},
    }
    return orjson.dumps(doc, option=orjson.OPT_INDENT_2)


def _entries(amd: Mapping[str, object], name: str) -> list[dict[str, Any]]:
    entries = amd.get(name, [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise BadInput(_CHECK, f"'amd.{name}' must be a list of objects")
    return cast(list[dict[str, Any]], entries)


def _text(entry: Mapping[str, object], key: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value:
        raise BadInput(_CHECK, f"{key!r} must be a non-empty string")
    return value


def _product(entry: Mapping[str, object]) -> AmdProduct:
    product = entry.get("product")
    for known in AMD_PRODUCTS:
        if product == known:
            return known
    raise BadInput(_CHECK, f"unknown AMD product {product!r}; have {list(AMD_PRODUCTS)}")


def _key_type(entry: Mapping[str, object]) -> str:
    key_type = entry.get("key_type")
    if key_type not in ("vcek", "vlek"):
        raise BadInput(_CHECK, f"key_type must be 'vcek' or 'vlek', not {key_type!r}")
    return str(key_type)
