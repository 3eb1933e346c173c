"""SEV-SNP products and TCB_VERSION: the 64-bit security patch levels of the firmware.

A TCB_VERSION is eight bytes, little-endian, one security patch level (SPL) per byte.
Its layout depends on the processor generation:

=====  ==================  =========================================
byte   Milan, Genoa        Turin
=====  ==================  =========================================
0      bootloader          fmc
1      tee                 bootloader
2      (reserved, spl4)    tee
3      (reserved, spl5)    snp
4      (reserved, spl6)    (reserved, spl5)
5      (reserved, spl7)    (reserved, spl6)
6      snp                 (reserved, spl7)
7      microcode           microcode
=====  ==================  =========================================

The report does not say which layout it uses; the product does. On report version 3
and later the CPUID family and model fields name the product; otherwise the VCEK's
product name or the roots that sign it do.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Product = Literal["milan", "genoa", "turin"]
PRODUCTS: tuple[Product, ...] = ("milan", "genoa", "turin")

# Display names as AMD writes them (certificate subjects, product names).
PRODUCT_NAMES: dict[Product, str] = {"milan": "Milan", "genoa": "Genoa", "turin": "Turin"}

# SPL name -> byte index in the TCB_VERSION, per layout. Reserved bytes are named
# ``spl4``..``spl7`` as in AMD's certificate extensions.
_PRE_TURIN = {
    "bootloader": 0,
    "tee": 1,
    "spl4": 2,
    "spl5": 3,
    "spl6": 4,
    "spl7": 5,
    "snp": 6,
    "microcode": 7,
}
_TURIN = {
    "fmc": 0,
    "bootloader": 1,
    "tee": 2,
    "snp": 3,
    "spl5": 4,
    "spl6": 5,
    "spl7": 6,
    "microcode": 7,
}
_RESERVED = frozenset({"spl4", "spl5", "spl6", "spl7"})

# (combined CPUID family, extended model) -> product: Milan is family 19h models 0xh,
# Genoa family 19h models 1xh, Turin family 1Ah models 0xh and 1xh.
_BY_CPUID: dict[tuple[int, int], Product] = {
    (0x19, 0): "milan",
    (0x19, 1): "genoa",
    (0x1A, 0): "turin",
    (0x1A, 1): "turin",
}
_BY_NAME: dict[str, Product] = {p: p for p in PRODUCTS}


def layout(product: Product) -> dict[str, int]:
    """SPL name -> byte index of the TCB_VERSION of ``product``."""
    return _TURIN if product == "turin" else _PRE_TURIN


def product_from_cpuid(family: int, model: int) -> Product | None:
    """The product named by the report's CPUID_FAM_ID and CPUID_MOD_ID, if we know it.

    Both are combined values (base + extended family; extended model << 4 | model).
    """
    return _BY_CPUID.get((family, model >> 4))


def product_from_name(name: str) -> Product | None:
    """The product of an AMD product name such as ``Milan-B0``, ``Genoa`` or ``Turin-B1``."""
    return _BY_NAME.get(name.split("-", 1)[0].strip().lower())


@dataclass(frozen=True)
class TcbVersion:
    """A decoded TCB_VERSION. ``fmc`` is set on Turin only; ``reserved`` keeps the rest.

    ``reserved`` maps ``spl4``..``spl7`` to the reserved bytes of the layout, so that
    :meth:`raw` gives back exactly the 64-bit value that was decoded.
    """

    product: Product
    bootloader: int
    tee: int
    snp: int
    microcode: int
    fmc: int | None = None
    reserved: tuple[tuple[str, int], ...] = ()

    def __post_init__(self) -> None:
        if self.product not in PRODUCTS:
            raise ValueError(f"unknown product {self.product!r}")
        if (self.fmc is None) == (self.product == "turin"):
            raise ValueError("fmc is set exactly when the product is Turin")
        names = layout(self.product)
        for name, value in (*self.parts().items(), *self.reserved):
            if name not in names:
                raise ValueError(f"{name} is not part of the {self.product} TCB layout")
            if type(value) is not int or not 0 <= value <= 0xFF:
                raise ValueError(f"{name} must be a byte, got {value!r}")

    @classmethod
    def from_raw(cls, raw: int, product: Product) -> TcbVersion:
        """Decode the 64-bit little-endian TCB_VERSION of ``product``."""
        if not 0 <= raw < 1 << 64:
            raise ValueError("a TCB_VERSION is 64 bits")
        spl = {name: (raw >> (8 * index)) & 0xFF for name, index in layout(product).items()}
        return cls(
            product=product,
            bootloader=spl["bootloader"],
            tee=spl["tee"],
            snp=spl["snp"],
            microcode=spl["microcode"],
            fmc=spl.get("fmc"),
            reserved=tuple((n, v) for n, v in spl.items() if n in _RESERVED and v),
        )

    @classmethod
    def from_spls(cls, spls: dict[str, int], product: Product) -> TcbVersion:
        """Build from SPL values by name (as in certificate extensions); absent ones are 0."""
        names = layout(product)
        unknown = set(spls) - set(names)
        if unknown:
            raise ValueError(f"not part of the {product} TCB layout: {sorted(unknown)}")
        raw = sum(spls.get(name, 0) << (8 * index) for name, index in names.items())
        if any(not 0 <= v <= 0xFF for v in spls.values()):
            raise ValueError("every SPL is a byte")
        return cls.from_raw(raw, product)

    def raw(self) -> int:
        names = layout(self.product)
        values = {**self.parts(), **dict(self.reserved)}
        return sum(value << (8 * names[name]) for name, value in values.items())

    def parts(self) -> dict[str, int]:
        """The named SPLs: bootloader, tee, snp, microcode, and fmc on Turin."""
        parts = {
            "bootloader": self.bootloader,
            "tee": self.tee,
            "snp": self.snp,
            "microcode": self.microcode,
        }
        if self.fmc is not None:
            parts = {"fmc": self.fmc, **parts}
        return parts

    def __str__(self) -> str:
        return " ".join(f"{name}={value}" for name, value in self.parts().items())
