"""The operator's policy: one TOML format for every platform, parsed into a typed object.

Signature and chain checks happen before, in the platform verifiers; the policy only judges
what verified evidence claims. Unknown keys are errors, so a typo can never silently weaken a
policy. The format is documented in ``docs/policy.md``::

    [policy]
    platforms = ["sev-snp", "tdx"]          # default: every platform
    unsafe_allow_debug = false              # default: debug guests are rejected
    expected_report_data = "<128 hex>"      # optional: pin REPORT_DATA exactly

    [sev-snp]
    measurements = ["<96 hex>", ...]
    min_tcb = { bootloader = 3, tee = 0, snp = 8, microcode = 115 }
    max_vmpl = 0

    [tdx]
    mrtd = ["<96 hex>"]                     # also rtmr0..rtmr3, mrconfigid, mrowner, mrownerconfig
    allowed_tcb_statuses = ["UpToDate", "SWHardeningNeeded"]

    [nitro]
    pcr0 = ["<96 hex>"]                     # also pcr1, pcr2, pcr3, pcr4, pcr8

    [vtpm]
    pcrs = { 7 = ["<64 hex>"] }
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from attestation.evidence import PLATFORMS
from verifier.errors import BadInput

DEFAULT_TCB_STATUSES = frozenset({"UpToDate", "SWHardeningNeeded"})
TDX_STATUSES = frozenset(
    {
        "UpToDate",
        "SWHardeningNeeded",
        "ConfigurationNeeded",
        "ConfigurationAndSWHardeningNeeded",
        "OutOfDate",
        "OutOfDateConfigurationNeeded",
        "Revoked",
    }
)
SNP_TCB_COMPONENTS = frozenset({"bootloader", "tee", "snp", "microcode", "fmc"})
# Which claim measurement keys each platform section may pin (vtpm: any pcrN, via `pcrs`).
MEASUREMENT_KEYS: Mapping[str, frozenset[str]] = {
    "sev-snp": frozenset({"measurement"}),
    "tdx": frozenset(
        {"mrtd", "rtmr0", "rtmr1", "rtmr2", "rtmr3", "mrconfigid", "mrowner", "mrownerconfig"}
    ),
    "nitro": frozenset({"pcr0", "pcr1", "pcr2", "pcr3", "pcr4", "pcr8"}),
}
_TOP = frozenset({"policy", *PLATFORMS})
_POLICY_KEYS = frozenset({"platforms", "unsafe_allow_debug", "expected_report_data"})
_SECTION_KEYS: Mapping[str, frozenset[str]] = {
    "sev-snp": frozenset({"measurements", "min_tcb", "max_vmpl"}),
    "tdx": MEASUREMENT_KEYS["tdx"] | {"allowed_tcb_statuses"},
    "nitro": MEASUREMENT_KEYS["nitro"],
    "vtpm": frozenset({"pcrs"}),
}


@dataclass(frozen=True)
class Policy:
    """A parsed policy. ``Policy()`` is the default: everything checked but measurements."""

    platforms: frozenset[str] = frozenset(PLATFORMS)
    unsafe_allow_debug: bool = False
    expected_report_data: bytes | None = None
    # platform -> claim measurement key -> allowed lowercase hex values
    measurements: Mapping[str, Mapping[str, frozenset[str]]] = field(default_factory=dict)
    snp_min_tcb: Mapping[str, int] = field(default_factory=dict)
    snp_max_vmpl: int = 0
    tdx_allowed_tcb_statuses: frozenset[str] = DEFAULT_TCB_STATUSES
    source: str = "the default policy"

    def pins_measurements(self, platform: str) -> bool:
        return bool(self.measurements.get(platform))

    @classmethod
    def from_toml(cls, text: str, *, source: str = "policy") -> Policy:
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise BadInput("policy", f"{source} is not valid TOML: {exc}") from None
        except RecursionError:  # tomllib recurses into nested arrays and inline tables
            raise BadInput("policy", f"{source} nests arrays or tables too deeply") from None
        return _parse(data, source)

    @classmethod
    def load(cls, path: Path) -> Policy:
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise BadInput("policy", f"{path} is not UTF-8 text") from None
        return cls.from_toml(text, source=str(path))


def _fail(source: str, where: str, message: str) -> BadInput:
    return BadInput("policy", f"{source}: {where}: {message}")


def _check_keys(table: Mapping[str, Any], allowed: frozenset[str], source: str, where: str) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise _fail(source, where, f"unknown keys {unknown}; allowed: {sorted(allowed)}")


def _section(data: Mapping[str, Any], name: str, source: str) -> dict[str, Any]:
    """The table ``[name]`` (empty when absent), its keys checked: not an array of tables."""
    table = data.get(name, {})
    if not isinstance(table, dict):
        raise _fail(source, f"[{name}]", "must be a table")
    _check_keys(
        table, _POLICY_KEYS if name == "policy" else _SECTION_KEYS[name], source, f"[{name}]"
    )
    return table


def _names(value: object, allowed: frozenset[str], source: str, where: str) -> frozenset[str]:
    """A non-empty list of strings drawn from ``allowed``."""
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(v, str) for v in value)
        or not set(value) <= allowed
    ):
        raise _fail(source, where, f"must be a non-empty list drawn from {sorted(allowed)}")
    return frozenset(value)


_PCR_INDEX = re.compile(r"0|[1-9][0-9]?")  # canonical decimal: "7" and "07" are not both keys


def _hex_list(value: object, source: str, where: str, sizes: tuple[int, ...]) -> frozenset[str]:
    if not isinstance(value, list) or not value:
        raise _fail(source, where, "must be a non-empty list of hex strings")
    out = set()
    for item in value:
        text = item.lower().removeprefix("0x") if isinstance(item, str) else None
        if text is None or len(text) not in sizes or any(c not in "0123456789abcdef" for c in text):
            raise _fail(
                source,
                where,
                f"{item!r} is not {' or '.join(str(s // 2) for s in sizes)} bytes of hex",
            )
        out.add(text)
    return frozenset(out)


def _parse(data: Mapping[str, Any], source: str) -> Policy:
    _check_keys(data, _TOP, source, "top level")
    top = _section(data, "policy", source)
    platforms = _names(
        top.get("platforms", list(PLATFORMS)), frozenset(PLATFORMS), source, "platforms"
    )
    debug = top.get("unsafe_allow_debug", False)
    if not isinstance(debug, bool):
        raise _fail(source, "unsafe_allow_debug", "must be true or false")
    expected = None
    if "expected_report_data" in top:
        expected = bytes.fromhex(
            next(
                iter(
                    _hex_list([top["expected_report_data"]], source, "expected_report_data", (128,))
                )
            )
        )

    measurements: dict[str, dict[str, frozenset[str]]] = {}
    snp = _section(data, "sev-snp", source)
    if "measurements" in snp:
        measurements["sev-snp"] = {
            "measurement": _hex_list(snp["measurements"], source, "sev-snp.measurements", (96,))
        }
    min_tcb = snp.get("min_tcb", {})
    if (
        not isinstance(min_tcb, dict)
        or not set(min_tcb) <= SNP_TCB_COMPONENTS
        or not all(type(v) is int and 0 <= v <= 255 for v in min_tcb.values())
    ):
        raise _fail(source, "sev-snp.min_tcb", f"must map {sorted(SNP_TCB_COMPONENTS)} to 0..255")
    max_vmpl = snp.get("max_vmpl", 0)
    if type(max_vmpl) is not int or not 0 <= max_vmpl <= 3:
        raise _fail(source, "sev-snp.max_vmpl", "must be an integer 0..3")

    tdx = _section(data, "tdx", source)
    pinned = {
        k: _hex_list(v, source, f"tdx.{k}", (96,))
        for k, v in tdx.items()
        if k in MEASUREMENT_KEYS["tdx"]
    }
    if pinned:
        measurements["tdx"] = pinned
    statuses = _names(
        tdx.get("allowed_tcb_statuses", sorted(DEFAULT_TCB_STATUSES)),
        TDX_STATUSES,
        source,
        "tdx.allowed_tcb_statuses",
    )

    nitro = _section(data, "nitro", source)
    if nitro:
        measurements["nitro"] = {
            k: _hex_list(v, source, f"nitro.{k}", (96,)) for k, v in nitro.items()
        }

    vtpm = _section(data, "vtpm", source)
    pcrs = vtpm.get("pcrs", {})
    if not isinstance(pcrs, dict) or not all(
        _PCR_INDEX.fullmatch(k) and int(k) <= 23 for k in pcrs
    ):
        raise _fail(source, "vtpm.pcrs", "must map PCR indexes 0..23 to lists of hex digests")
    if pcrs:
        measurements["vtpm"] = {
            f"pcr{int(k)}": _hex_list(v, source, f"vtpm.pcrs.{k}", (40, 64, 96))
            for k, v in pcrs.items()
        }

    return Policy(
        platforms=platforms,
        unsafe_allow_debug=debug,
        expected_report_data=expected,
        measurements=measurements,
        snp_min_tcb=dict(min_tcb),
        snp_max_vmpl=max_vmpl,
        tdx_allowed_tcb_statuses=statuses,
        source=source,
    )
