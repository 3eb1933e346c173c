"""Intel's TDX TCB info (``tcbInfo``, version 3, id ``TDX``), parsed after its signature checks.

Only the fields the verifier evaluates are kept. TCB levels stay in Intel's order
(newest first); the evaluation takes the first that the platform meets.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from verifier.policy import TDX_STATUSES as TCB_STATUSES  # Intel's seven TCB statuses
from verifier.tdx.jsonfields import Fields, load_signed_json

CHECK = "tdx.tcb-info"


@dataclass(frozen=True)
class TcbLevel:
    sgx_components: tuple[int, ...]
    pce_svn: int
    tdx_components: tuple[int, ...]
    tcb_date: datetime
    status: str
    advisory_ids: tuple[str, ...]


@dataclass(frozen=True)
class ModuleLevel:
    isv_svn: int
    tcb_date: datetime
    status: str
    advisory_ids: tuple[str, ...]


@dataclass(frozen=True)
class ModuleIdentity:
    id: str
    mrsigner: bytes
    attributes: bytes
    attributes_mask: bytes
    levels: tuple[ModuleLevel, ...] = ()


@dataclass(frozen=True)
class TcbInfo:
    version: int
    issue_date: datetime
    next_update: datetime
    fmspc: bytes
    pce_id: bytes
    tcb_type: int
    evaluation_data_number: int
    tdx_module: ModuleIdentity
    module_identities: tuple[ModuleIdentity, ...]
    levels: tuple[TcbLevel, ...]

    @classmethod
    def from_json(cls, raw: bytes) -> TcbInfo:
        f = load_signed_json(
            raw, check=CHECK, where="tcbInfo", what="TDX TCB info", expected_id="TDX", version=3
        )
        tcb_type = f.integer("tcbType")
        if tcb_type != 0:
            raise f.fail("tcbType", f"is {tcb_type}; only type 0 is defined")
        levels = tuple(_level(item) for item in f.objects("tcbLevels"))
        if not levels:
            raise f.fail("tcbLevels", "is empty")
        identities = (
            tuple(_module(item, with_levels=True) for item in f.objects("tdxModuleIdentities"))
            if f.has("tdxModuleIdentities")
            else ()
        )
        return cls(
            version=3,
            issue_date=f.time("issueDate"),
            next_update=f.time("nextUpdate"),
            fmspc=f.hexbytes("fmspc", 6),
            pce_id=f.hexbytes("pceId", 2),
            tcb_type=tcb_type,
            evaluation_data_number=f.integer("tcbEvaluationDataNumber"),
            tdx_module=_module(f.child("tdxModule"), with_levels=False),
            module_identities=identities,
            levels=levels,
        )


def status_of(f: Fields, key: str = "tcbStatus") -> str:
    status = f.text(key)
    if status not in TCB_STATUSES:
        raise f.fail(key, f"is {status!r}, not a known TCB status")
    return status


def _svns(f: Fields, key: str) -> tuple[int, ...]:
    items = f.objects(key)
    if len(items) != 16:
        raise f.fail(key, "must list 16 components")
    svns = tuple(item.integer("svn") for item in items)
    if any(svn > 255 for svn in svns):
        raise f.fail(key, "SVNs are 0..255")
    return svns


def _level(f: Fields) -> TcbLevel:
    tcb = f.child("tcb")
    return TcbLevel(
        sgx_components=_svns(tcb, "sgxtcbcomponents"),
        pce_svn=tcb.integer("pcesvn"),
        tdx_components=_svns(tcb, "tdxtcbcomponents"),
        tcb_date=f.time("tcbDate"),
        status=status_of(f),
        advisory_ids=f.strings("advisoryIDs"),
    )


def isv_levels(f: Fields) -> tuple[ModuleLevel, ...]:
    """TCB levels keyed by one ISVSVN (TDX module identities, the QE identity)."""
    return tuple(
        ModuleLevel(
            isv_svn=item.child("tcb").integer("isvsvn"),
            tcb_date=item.time("tcbDate"),
            status=status_of(item),
            advisory_ids=item.strings("advisoryIDs"),
        )
        for item in f.objects("tcbLevels")
    )


def _module(f: Fields, *, with_levels: bool) -> ModuleIdentity:
    levels = isv_levels(f) if with_levels else ()
    return ModuleIdentity(
        id=f.text("id") if with_levels else "",
        mrsigner=f.hexbytes("mrsigner", 48),
        attributes=f.hexbytes("attributes", 8),
        attributes_mask=f.hexbytes("attributesMask", 8),
        levels=levels,
    )
