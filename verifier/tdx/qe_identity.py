"""Intel's TD Quoting Enclave identity (``enclaveIdentity``, version 2, id ``TD_QE``)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from verifier.collateral.errors import CollateralInvalid
from verifier.tdx.jsonfields import Fields
from verifier.tdx.tcb_info import ModuleLevel, status_of

CHECK = "tdx.qe-identity"


@dataclass(frozen=True)
class QeIdentity:
    version: int
    issue_date: datetime
    next_update: datetime
    evaluation_data_number: int
    miscselect: bytes  # byte order as in the report, like the attributes
    miscselect_mask: bytes
    attributes: bytes
    attributes_mask: bytes
    mrsigner: bytes
    isv_prod_id: int
    levels: tuple[ModuleLevel, ...]

    @classmethod
    def from_json(cls, raw: bytes) -> QeIdentity:
        try:
            data = json.loads(raw)
        except ValueError as exc:
            raise CollateralInvalid(CHECK, f"the QE identity is not JSON: {exc}") from None
        f = Fields(data, check=CHECK, where="enclaveIdentity")
        if f.text("id") != "TD_QE":
            raise f.fail("id", "must be 'TD_QE' (this is not the TDX quoting enclave)")
        version = f.integer("version")
        if version != 2:
            raise f.fail("version", f"is {version}; the QE identity is version 2")
        levels = tuple(
            ModuleLevel(
                isv_svn=item.child("tcb").integer("isvsvn"),
                tcb_date=item.time("tcbDate"),
                status=status_of(item),
                advisory_ids=item.strings("advisoryIDs"),
            )
            for item in f.objects("tcbLevels")
        )
        return cls(
            version=version,
            issue_date=f.time("issueDate"),
            next_update=f.time("nextUpdate"),
            evaluation_data_number=f.integer("tcbEvaluationDataNumber"),
            miscselect=f.hexbytes("miscselect", 4),
            miscselect_mask=f.hexbytes("miscselectMask", 4),
            attributes=f.hexbytes("attributes", 16),
            attributes_mask=f.hexbytes("attributesMask", 16),
            mrsigner=f.hexbytes("mrsigner", 32),
            isv_prod_id=f.integer("isvprodid"),
            levels=levels,
        )
