"""The SGX extensions of an Intel PCK certificate (OID 1.2.840.113741.1.13.1).

The extension value is a SEQUENCE of (OID, value) pairs::

    .1  PPID                 OCTET STRING (16)
    .2  TCB                  SEQUENCE of (.2.1 .. .2.16 INTEGER component SVNs,
                                          .2.17 INTEGER PCESVN, .2.18 OCTET STRING CPUSVN)
    .3  PCE-ID               OCTET STRING (2)
    .4  FMSPC                OCTET STRING (6)
    .5  SGX type             ENUMERATED (0 standard, 1 scalable, 2 scalable with integrity)
    .6  platform instance ID OCTET STRING (16, platform CA only, optional)
    .7  configuration        SEQUENCE of (.7.1 dynamic platform, .7.2 cached keys,
                                          .7.3 SMT enabled: BOOLEAN), optional

The verifier reads the FMSPC, the PCE-ID and the TCB to pick the TCB level.
"""

from __future__ import annotations

from dataclasses import dataclass

from attestation.errors import MalformedEvidence
from attestation.formats import der

SGX_EXTENSIONS_OID = "1.2.840.113741.1.13.1"
_PPID, _TCB, _PCEID, _FMSPC, _SGX_TYPE, _INSTANCE, _CONFIG = (
    f"{SGX_EXTENSIONS_OID}.{n}" for n in range(1, 8)
)
_CONFIG_NAMES = ("dynamic_platform", "cached_keys", "smt_enabled")


@dataclass(frozen=True)
class PckExtensions:
    ppid: bytes
    tcb_components: tuple[int, ...]
    pce_svn: int
    cpu_svn: bytes
    pce_id: bytes
    fmspc: bytes
    sgx_type: int
    platform_instance_id: bytes | None = None
    dynamic_platform: bool | None = None
    cached_keys: bool | None = None
    smt_enabled: bool | None = None

    def __post_init__(self) -> None:
        if len(self.tcb_components) != 16 or not all(
            type(c) is int and 0 <= c <= 255 for c in self.tcb_components
        ):
            raise MalformedEvidence("16 component SVNs of 0..255", field="pck.tcb_components")
        if type(self.pce_svn) is not int or not 0 <= self.pce_svn <= 0xFFFF:
            raise MalformedEvidence("a 16-bit PCESVN", field="pck.pce_svn")
        for name, size in (("ppid", 16), ("cpu_svn", 16), ("pce_id", 2), ("fmspc", 6)):
            if len(getattr(self, name)) != size:
                raise MalformedEvidence(f"must be {size} bytes", field=f"pck.{name}")

    @classmethod
    def from_der(cls, value: bytes) -> PckExtensions:
        """Parse the DER value of the SGX extensions extension."""
        outer = der.read_all(value, "pck.sgx_extensions")
        if len(outer) != 1:
            raise MalformedEvidence("expected one SEQUENCE", field="pck.sgx_extensions")
        content = der.expect(der.SEQUENCE, outer[0], "pck.sgx_extensions")
        found = dict(_pair(item, "pck.sgx_extensions") for item in der.read_all(content, "pck"))
        missing = {_PPID, _TCB, _PCEID, _FMSPC, _SGX_TYPE} - set(found)
        if missing:
            raise MalformedEvidence(f"missing {sorted(missing)}", field="pck.sgx_extensions")
        comps, pce_svn, cpu_svn = _tcb(found[_TCB])
        instance = found.get(_INSTANCE)
        flags = _configuration(found.get(_CONFIG))
        return cls(
            ppid=der.expect(der.OCTET_STRING, found[_PPID], "pck.ppid"),
            tcb_components=comps,
            pce_svn=pce_svn,
            cpu_svn=cpu_svn,
            pce_id=der.expect(der.OCTET_STRING, found[_PCEID], "pck.pce_id"),
            fmspc=der.expect(der.OCTET_STRING, found[_FMSPC], "pck.fmspc"),
            sgx_type=der.decode_uint(
                der.expect(der.ENUMERATED, found[_SGX_TYPE], "pck.sgx_type"), "pck.sgx_type"
            ),
            platform_instance_id=(
                None
                if instance is None
                else der.expect(der.OCTET_STRING, instance, "pck.platform_instance_id")
            ),
            dynamic_platform=flags.get("dynamic_platform"),
            cached_keys=flags.get("cached_keys"),
            smt_enabled=flags.get("smt_enabled"),
        )

    def to_der(self) -> bytes:
        """Encode as the DER value of the SGX extensions extension."""
        tcb = [
            _encode_pair(f"{_TCB}.{i + 1}", der.encode_uint(svn))
            for i, svn in enumerate(self.tcb_components)
        ]
        tcb.append(_encode_pair(f"{_TCB}.17", der.encode_uint(self.pce_svn)))
        tcb.append(_encode_pair(f"{_TCB}.18", der.tlv(der.OCTET_STRING, self.cpu_svn)))
        items = [
            _encode_pair(_PPID, der.tlv(der.OCTET_STRING, self.ppid)),
            _encode_pair(_TCB, der.sequence(*tcb)),
            _encode_pair(_PCEID, der.tlv(der.OCTET_STRING, self.pce_id)),
            _encode_pair(_FMSPC, der.tlv(der.OCTET_STRING, self.fmspc)),
            _encode_pair(_SGX_TYPE, der.encode_uint(self.sgx_type, der.ENUMERATED)),
        ]
        if self.platform_instance_id is not None:
            items.append(
                _encode_pair(_INSTANCE, der.tlv(der.OCTET_STRING, self.platform_instance_id))
            )
        flags = [
            _encode_pair(f"{_CONFIG}.{i + 1}", der.tlv(der.BOOLEAN, b"\xff" if value else b"\x00"))
            for i, name in enumerate(_CONFIG_NAMES)
            if (value := getattr(self, name)) is not None
        ]
        if flags:
            items.append(_encode_pair(_CONFIG, der.sequence(*flags)))
        return der.sequence(*items)


def _encode_pair(oid: str, value: bytes) -> bytes:
    return der.sequence(der.encode_oid(oid), value)


def _pair(item: tuple[int, bytes], field: str) -> tuple[str, tuple[int, bytes]]:
    parts = der.read_all(der.expect(der.SEQUENCE, item, field), field)
    if len(parts) != 2:
        raise MalformedEvidence("each SGX extension is an (OID, value) pair", field=field)
    return der.decode_oid(der.expect(der.OID, parts[0], field), field), parts[1]


def _tcb(item: tuple[int, bytes]) -> tuple[tuple[int, ...], int, bytes]:
    inner = der.expect(der.SEQUENCE, item, "pck.tcb")
    values = dict(_pair(part, "pck.tcb") for part in der.read_all(inner, "pck.tcb"))
    missing = {f"{_TCB}.{i}" for i in range(1, 19)} - set(values)
    if missing:
        raise MalformedEvidence(f"missing {sorted(missing)}", field="pck.tcb")

    def svn(index: int, name: str) -> int:
        return der.decode_uint(der.expect(der.INTEGER, values[f"{_TCB}.{index}"], name), name)

    comps = tuple(svn(i, f"pck.tcb.comp{i:02d}") for i in range(1, 17))
    cpu_svn = der.expect(der.OCTET_STRING, values[f"{_TCB}.18"], "pck.cpu_svn")
    return comps, svn(17, "pck.pce_svn"), cpu_svn


def _configuration(item: tuple[int, bytes] | None) -> dict[str, bool]:
    if item is None:
        return {}
    inner = der.expect(der.SEQUENCE, item, "pck.configuration")
    flags: dict[str, bool] = {}
    for part in der.read_all(inner, "pck.configuration"):
        oid, value = _pair(part, "pck.configuration")
        for i, name in enumerate(_CONFIG_NAMES):
            if oid == f"{_CONFIG}.{i + 1}":
                flags[name] = der.expect(der.BOOLEAN, value, f"pck.{name}") != b"\x00"
    return flags
