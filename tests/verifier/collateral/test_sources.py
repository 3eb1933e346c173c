"""Bundles, directories and the simple sources of the collateral layer."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.helpers.tdx import DCAP_TIME, SIM_TIME, SPR_TIME, simulator, spr_collateral
from verifier.collateral import (
    BUNDLE_TYPE,
    AmdTcb,
    CollateralSource,
    CollateralUnavailable,
    DirectoryCollateral,
    FirstAvailable,
    NoCollateral,
    StaticCollateral,
    TdxCollateral,
    dump_bundle,
    load_bundle,
    load_bundle_file,
)
from verifier.errors import BadInput

MILAN_TCB = AmdTcb(bootloader=3, tee=0, snp=8, microcode=115)


def test_dcapqvl_bundle_loads(testvectors: Path) -> None:
    source = load_bundle_file(testvectors / "tdx" / "dcapqvl-v4.collateral.json")
    assert isinstance(source, CollateralSource)
    found = source.tdx_collateral(fmspc="B0C06F000000", ca="platform", now=DCAP_TIME)
    assert found.fmspc == "b0c06f000000"
    assert found.tcb_info.startswith(b'{"id":"TDX"')
    assert found.not_after() == datetime(2025, 7, 19, 10, 0, 35, tzinfo=UTC)
    with pytest.raises(CollateralUnavailable):
        source.tdx_collateral(fmspc="B0C06F000000", ca="processor", now=DCAP_TIME)
    with pytest.raises(CollateralUnavailable):
        source.tdx_collateral(fmspc="50806F000000", ca="platform", now=DCAP_TIME)


def test_pcs_responses_keep_the_signed_bytes(testvectors: Path) -> None:
    collateral = spr_collateral(testvectors)
    body = (testvectors / "tdx" / "spr-e4-v4.pcs-tcbinfo.json").read_bytes()
    assert collateral.tcb_info in body
    assert collateral.tcb_info_signature.hex() == json.loads(body)["signature"]
    assert collateral.qe_identity_issuer_chain == collateral.tcb_info_issuer_chain
    assert collateral.fmspc == "50806f000000"


def test_veritee_bundle_round_trips_tdx_and_amd(testvectors: Path) -> None:
    tdx = spr_collateral(testvectors)
    chain = (testvectors / "roots" / "amd_ask_ark_milan.pem").read_bytes()
    bundle = json.loads(dump_bundle(tdx=[tdx], amd_chains={("Milan", "vcek"): (chain, None)}))
    vcek = (testvectors / "snp" / "milan-v2.vcek.der").read_bytes()
    bundle["amd"]["vceks"] = [
        {
            "product": "Milan",
            "hwid": "ab" * 64,
            "tcb": {"bootloader": 3, "tee": 0, "snp": 8, "microcode": 115},
            "cert": vcek.hex(),
        }
    ]
    source = load_bundle(json.dumps(bundle).encode())
    assert bundle["type"] == BUNDLE_TYPE
    again = source.tdx_collateral(fmspc="50806f000000", ca="platform", now=SPR_TIME)
    assert again.to_bundle_dict() == tdx.to_bundle_dict()
    assert source.amd_vcek(product="Milan", hwid=bytes([0xAB]) * 64, tcb=MILAN_TCB) == vcek
    milan = source.amd_chain(product="Milan", key_type="vcek")
    assert milan.intermediate != milan.root
    with pytest.raises(CollateralUnavailable):
        source.amd_chain(product="Genoa", key_type="vcek")
    with pytest.raises(CollateralUnavailable):
        source.amd_crl(product="Milan", key_type="vcek", now=SPR_TIME)


@pytest.mark.parametrize(
    "data",
    [
        b"not json",
        b"[]",
        b'{"type": "other"}',
        b'{"tcb_info": "x"}',
        b'{"type": "veritee.collateral.v1", "tdx": {}}',
        b'{"type": "veritee.collateral.v1", "amd": {"chains": [{"product": "Naples"}]}}',
        b'{"type": "veritee.collateral.v1", "amd": {"vceks": [{"product": "Milan", "tcb": {}}]}}',
    ],
)
def test_malformed_bundles_are_bad_input(data: bytes) -> None:
    with pytest.raises(BadInput):
        load_bundle(data)


def test_bad_fields_in_a_dcapqvl_bundle_are_bad_input(testvectors: Path) -> None:
    doc = json.loads((testvectors / "tdx" / "dcapqvl-v4.collateral.json").read_bytes())
    for key, value in [
        ("tcb_info_signature", "zz"),
        ("pck_crl", "00"),
        ("qe_identity_signature", "00"),
    ]:
        with pytest.raises(BadInput):
            load_bundle(json.dumps({**doc, key: value}).encode())


def _directory(testvectors: Path, root: Path) -> None:
    src = testvectors / "tdx"
    tdx = root / "tdx"
    (tdx / "fmspc-50806f000000").mkdir(parents=True)
    shutil.copy(src / "spr-e4-v4.pcs-tcbinfo.json", tdx / "fmspc-50806f000000" / "tcbinfo.json")
    shutil.copy(
        src / "spr-e4-v4.pcs-tcbinfo-issuer-chain.pem",
        tdx / "fmspc-50806f000000" / "tcbinfo.issuer-chain.pem",
    )
    shutil.copy(src / "spr-e4-v4.pcs-qeidentity.json", tdx / "qeidentity.json")
    shutil.copy(src / "spr-e4-v4.pcs-pckcrl.der", tdx / "pckcrl-platform.der")
    shutil.copy(
        src / "spr-e4-v4.pcs-pckcrl-issuer-chain.pem", tdx / "pckcrl-platform.issuer-chain.pem"
    )
    shutil.copy(src / "spr-e4-v4.rootcrl.der", tdx / "rootcrl.der")
    amd = root / "amd" / "Milan" / "vcek"
    (amd / ("cd" * 64)).mkdir(parents=True)
    shutil.copy(testvectors / "roots" / "amd_ask_ark_milan.pem", amd / "cert_chain.pem")
    shutil.copy(
        testvectors / "snp" / "milan-v2.vcek.der", amd / ("cd" * 64) / f"{MILAN_TCB.key()}.der"
    )


def test_directory_source(testvectors: Path, tmp_path: Path) -> None:
    _directory(testvectors, tmp_path)
    source = DirectoryCollateral(tmp_path)
    found = source.tdx_collateral(fmspc="50806F000000", ca="platform", now=SPR_TIME)
    assert found.to_bundle_dict() == spr_collateral(testvectors).to_bundle_dict()
    vcek = source.amd_vcek(product="Milan", hwid=bytes([0xCD]) * 64, tcb=MILAN_TCB)
    assert vcek == (testvectors / "snp" / "milan-v2.vcek.der").read_bytes()
    assert source.amd_chain(product="Milan", key_type="vcek").root
    with pytest.raises(CollateralUnavailable, match="pckcrl-processor"):
        source.tdx_collateral(fmspc="50806F000000", ca="processor", now=SPR_TIME)
    with pytest.raises(CollateralUnavailable):
        source.amd_vcek(product="Milan", hwid=bytes(64), tcb=MILAN_TCB)
    with pytest.raises(CollateralUnavailable):
        source.amd_crl(product="Milan", key_type="vcek", now=SPR_TIME)


def test_amd_tcb_queries() -> None:
    assert MILAN_TCB.query() == "blSPL=03&teeSPL=00&snpSPL=08&ucodeSPL=115"
    turin = AmdTcb(bootloader=1, tee=2, snp=3, microcode=4, fmc=5)
    assert turin.query() == "fmcSPL=05&blSPL=01&teeSPL=02&snpSPL=03&ucodeSPL=04"
    with pytest.raises(BadInput):
        AmdTcb(bootloader=256, tee=0, snp=0, microcode=0)


def test_first_available_and_no_collateral(testvectors: Path) -> None:
    spr = StaticCollateral(tdx=[spr_collateral(testvectors)], name="spr")
    chained = FirstAvailable(NoCollateral(), spr)
    assert chained.tdx_collateral(fmspc="50806f000000", ca="platform", now=SPR_TIME).fmspc
    with pytest.raises(CollateralUnavailable) as info:
        chained.amd_chain(product="Milan", key_type="vlek")
    assert "no collateral source" in info.value.reason and "spr" in info.value.reason
    with pytest.raises(ValueError):
        FirstAvailable()


def test_static_source_prefers_the_newest_set_valid_at_now() -> None:
    sim = simulator()
    early = TdxCollateral.from_evidence(sim.collateral(SIM_TIME))
    late = TdxCollateral.from_evidence(sim.collateral(SIM_TIME + timedelta(days=20)))
    assert early is not None and late is not None
    source = StaticCollateral(tdx=[late, early])
    fmspc = early.fmspc

    def pick(days: int) -> TdxCollateral:
        return source.tdx_collateral(
            fmspc=fmspc, ca="platform", now=SIM_TIME + timedelta(days=days)
        )

    assert pick(10) is early  # the later set is not issued yet
    assert pick(25) is late  # both valid: the newest
    assert pick(45) is late  # neither valid: the one that lasted longest (the verifier rejects it)
    assert early.valid_at(SIM_TIME) and not early.valid_at(SIM_TIME + timedelta(days=31))
