"""Intel's TD Quoting Enclave identity (``enclaveIdentity``, version 2, id ``TD_QE``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from verifier.tdx.jsonfields import load_signed_json
from verifier.tdx.tcb_info import ModuleLevel, isv_levels

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
        f = load_signed_json(
            raw,
            check=CHECK,
            where="enclaveIdentity",
            what="TDX QE identity",
            expected_id="TD_QE",
            version=2,
        )
        return cls(
            version=2,
            issue_date=f.time("issueDate"),
            next_update=f.time("nextUpdate"),
            evaluation_data_number=f.integer("tcbEvaluationDataNumber"),
            miscselect=f.hexbytes("miscselect", 4),
            miscselect_mask=f.hexbytes("miscselectMask", 4),
            attributes=f.hexbytes("attributes", 16),
            attributes_mask=f.hexbytes("attributesMask", 16),
            mrsigner=f.hexbytes("mrsigner", 32),
            isv_prod_id=f.integer("isvprodid"),
            levels=isv_levels(f),
        )
