"""TCB_VERSION layouts (Milan/Genoa vs Turin) and product detection."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from attestation.formats.snp_tcb import (
    PRODUCTS,
    Product,
    TcbVersion,
    product_from_cpuid,
    product_from_name,
)


def test_milan_layout() -> None:
    # milan-v2 REPORTED_TCB: bootloader 3, tee 0, snp 8, microcode 115 (0x73)
    tcb = TcbVersion.from_raw(0x7308000000000003, "milan")
    assert tcb.parts() == {"bootloader": 3, "tee": 0, "snp": 8, "microcode": 115}
    assert tcb.fmc is None
    assert str(tcb) == "bootloader=3 tee=0 snp=8 microcode=115"


def test_turin_layout_differs() -> None:
    raw = 0x0200000004030201  # fmc 1, bootloader 2, tee 3, snp 4, microcode 2
    turin = TcbVersion.from_raw(raw, "turin")
    assert turin.parts() == {"fmc": 1, "bootloader": 2, "tee": 3, "snp": 4, "microcode": 2}
    genoa = TcbVersion.from_raw(raw, "genoa")
    assert genoa.parts() == {"bootloader": 1, "tee": 2, "snp": 0, "microcode": 2}
    assert genoa.reserved == (("spl4", 3), ("spl5", 4))


def test_from_spls_matches_certificate_extensions() -> None:
    spls = {"bootloader": 10, "tee": 0, "snp": 25, "microcode": 84, "spl4": 0}
    assert TcbVersion.from_spls(spls, "genoa").raw() == 0x541900000000000A
    with pytest.raises(ValueError, match="not part of the turin"):
        TcbVersion.from_spls(spls, "turin")
    with pytest.raises(ValueError, match="byte"):
        TcbVersion.from_spls({"bootloader": 256}, "milan")


def test_constructor_invariants() -> None:
    with pytest.raises(ValueError, match="fmc"):
        TcbVersion("turin", bootloader=1, tee=1, snp=1, microcode=1)
    with pytest.raises(ValueError, match="fmc"):
        TcbVersion("milan", bootloader=1, tee=1, snp=1, microcode=1, fmc=0)
    with pytest.raises(ValueError, match="byte"):
        TcbVersion("milan", bootloader=-1, tee=1, snp=1, microcode=1)
    with pytest.raises(ValueError, match="64 bits"):
        TcbVersion.from_raw(1 << 64, "milan")


@given(st.integers(0, 2**64 - 1), st.sampled_from(PRODUCTS))
def test_raw_round_trips(raw: int, product: Product) -> None:
    tcb = TcbVersion.from_raw(raw, product)
    assert tcb.raw() == raw
    assert TcbVersion.from_spls({**tcb.parts(), **dict(tcb.reserved)}, product) == tcb


@pytest.mark.parametrize(
    ("family", "model", "product"),
    [
        (0x19, 0x01, "milan"),
        (0x19, 0x11, "genoa"),
        (0x1A, 0x02, "turin"),
        (0x1A, 0x11, "turin"),
        (0x19, 0xA0, None),
        (0x17, 0x31, None),
    ],
)
def test_product_from_cpuid(family: int, model: int, product: str | None) -> None:
    assert product_from_cpuid(family, model) == product


def test_product_from_name() -> None:
    assert product_from_name("Milan-B0") == "milan"
    assert product_from_name("Genoa") == "genoa"
    assert product_from_name("Turin-B1") == "turin"
    assert product_from_name("Rome-B0") is None
    assert product_from_name("") is None
