"""TCB status of a TDX platform from verified collateral (Intel's TDX TCB info v3 rules).

1. The PCK certificate's FMSPC and PCE-ID must be the TCB info's.
2. TDX module: when TEE_TCB_SVN[1] (the module's major version) is non-zero and the TCB
   info lists module identities, the identity ``TDX_<major, 2 hex digits>`` must match
   MRSIGNERSEAM and the masked SEAMATTRIBUTES, and its first level with
   ``isvsvn <= TEE_TCB_SVN[0]`` gives the module's status. Otherwise ``tdxModule`` must
   match and gives no separate status.
3. Platform: the first TCB level whose SGX components and PCESVN the PCK certificate
   meets, and whose TDX components TEE_TCB_SVN meets (from index 2 when the module major
   version is non-zero, since the module identity covers indices 0 and 1).
4. Quoting enclave: MRSIGNER, ISVPRODID, masked MISCSELECT and ATTRIBUTES must match the
   QE identity; its first level with ``isvsvn <= ISVSVN`` gives the QE's status.
5. The statuses converge: an OutOfDate module or QE turns UpToDate/SWHardeningNeeded into
   OutOfDate and ConfigurationNeeded/ConfigurationAndSWHardeningNeeded into
   OutOfDateConfigurationNeeded; Revoked anywhere is Revoked.

No matching level is a failure (Intel's "TCB not supported"), as is Revoked: no policy
can accept those. Every other status is returned for the policy to judge.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from attestation.formats.tdx import EnclaveReport, PckExtensions, TdReportBody
from verifier.errors import TcbMismatch
from verifier.tdx.qe_identity import QeIdentity
from verifier.tdx.tcb_info import ModuleIdentity, ModuleLevel, TcbInfo, TcbLevel


@dataclass(frozen=True)
class TcbResult:
    status: str
    advisory_ids: tuple[str, ...]
    platform: TcbLevel
    module_id: str | None
    module: ModuleLevel | None
    qe: ModuleLevel

    @property
    def tcb_date(self) -> datetime:
        return self.platform.tcb_date


def evaluate_tcb(
    *,
    body: TdReportBody,
    pck: PckExtensions,
    qe_report: EnclaveReport,
    tcb_info: TcbInfo,
    qe_identity: QeIdentity,
) -> TcbResult:
    if pck.fmspc != tcb_info.fmspc:
        raise TcbMismatch(
            "tdx.fmspc",
            f"the PCK certificate's FMSPC {pck.fmspc.hex()} is not the TCB info's "
            f"{tcb_info.fmspc.hex()}",
        )
    if pck.pce_id != tcb_info.pce_id:
        raise TcbMismatch(
            "tdx.fmspc",
            f"the PCK certificate's PCE-ID {pck.pce_id.hex()} is not the TCB info's "
            f"{tcb_info.pce_id.hex()}",
        )
    module_id, module = _module_status(body, tcb_info)
    platform = _platform_level(body, pck, tcb_info)
    qe = qe_level(qe_report, qe_identity)
    status = platform.status
    if module is not None:
        status = converge(status, module.status)
    status = converge(status, qe.status)
    advisories = sorted(
        {*platform.advisory_ids, *(module.advisory_ids if module else ()), *qe.advisory_ids}
    )
    if status == "Revoked":
        raise TcbMismatch(
            "tdx.tcb-status",
            f"the TCB is Revoked (advisories: {', '.join(advisories) or 'none listed'})",
        )
    return TcbResult(status, tuple(advisories), platform, module_id, module, qe)


def converge(status: str, other: str) -> str:
    """Combine a platform status with a module's or QE's status (Intel's rule)."""
    if other == "Revoked":
        return "Revoked"
    if other == "OutOfDate":
        if status in ("UpToDate", "SWHardeningNeeded"):
            return "OutOfDate"
        if status in ("ConfigurationNeeded", "ConfigurationAndSWHardeningNeeded"):
            return "OutOfDateConfigurationNeeded"
    return status


def _module_status(body: TdReportBody, tcb_info: TcbInfo) -> tuple[str | None, ModuleLevel | None]:
    major = body.tee_tcb_svn[1]
    if major == 0 or not tcb_info.module_identities:
        _match_module(body, tcb_info.tdx_module, "tdxModule")
        return None, None
    module_id = f"TDX_{major:02X}"
    identity = next((m for m in tcb_info.module_identities if m.id.upper() == module_id), None)
    if identity is None:
        raise TcbMismatch(
            "tdx.tdx-module", f"the TCB info has no identity {module_id} for this TDX module"
        )
    _match_module(body, identity, module_id)
    svn = body.tee_tcb_svn[0]
    level = next((lv for lv in identity.levels if lv.isv_svn <= svn), None)
    if level is None:
        raise TcbMismatch(
            "tdx.tdx-module", f"TDX module {module_id} SVN {svn} is below every known level"
        )
    return module_id, level


def _match_module(body: TdReportBody, identity: ModuleIdentity, name: str) -> None:
    if body.mrsignerseam != identity.mrsigner:
        raise TcbMismatch(
            "tdx.tdx-module",
            f"MRSIGNERSEAM {body.mrsignerseam.hex()} is not {name}'s {identity.mrsigner.hex()}",
        )
    masked = bytes(
        a & m for a, m in zip(body.seam_attributes, identity.attributes_mask, strict=True)
    )
    if masked != identity.attributes:
        raise TcbMismatch(
            "tdx.tdx-module",
            f"SEAMATTRIBUTES {body.seam_attributes.hex()} do not match {name}'s "
            f"{identity.attributes.hex()} under mask {identity.attributes_mask.hex()}",
        )


def _platform_level(body: TdReportBody, pck: PckExtensions, tcb_info: TcbInfo) -> TcbLevel:
    start = 2 if body.tee_tcb_svn[1] > 0 else 0
    for level in tcb_info.levels:
        if (
            all(
                have >= need
                for have, need in zip(pck.tcb_components, level.sgx_components, strict=True)
            )
            and pck.pce_svn >= level.pce_svn
            and all(
                have >= need
                for have, need in zip(
                    body.tee_tcb_svn[start:], level.tdx_components[start:], strict=True
                )
            )
        ):
            return level
    raise TcbMismatch(
        "tdx.tcb-status",
        "no TCB level of the TCB info matches this platform (TCB not supported): "
        f"SGX components {list(pck.tcb_components)}, PCESVN {pck.pce_svn}, "
        f"TEE_TCB_SVN {body.tee_tcb_svn.hex()}",
    )


def qe_level(report: EnclaveReport, identity: QeIdentity) -> ModuleLevel:
    """Match the QE report against the QE identity; return its TCB level."""
    problems = []
    if report.mrsigner != identity.mrsigner:
        problems.append(f"MRSIGNER {report.mrsigner.hex()} is not {identity.mrsigner.hex()}")
    if report.isv_prod_id != identity.isv_prod_id:
        problems.append(f"ISVPRODID {report.isv_prod_id} is not {identity.isv_prod_id}")
    misc = report.misc_select.to_bytes(4, "little")
    if _masked(misc, identity.miscselect_mask) != _masked(
        identity.miscselect, identity.miscselect_mask
    ):
        problems.append(f"MISCSELECT {misc.hex()} does not match {identity.miscselect.hex()}")
    if _masked(report.attributes, identity.attributes_mask) != _masked(
        identity.attributes, identity.attributes_mask
    ):
        problems.append(
            f"ATTRIBUTES {report.attributes.hex()} do not match {identity.attributes.hex()}"
        )
    if problems:
        raise TcbMismatch(
            "tdx.qe-identity", "the quoting enclave is not Intel's: " + "; ".join(problems)
        )
    level = next((lv for lv in identity.levels if lv.isv_svn <= report.isv_svn), None)
    if level is None:
        raise TcbMismatch(
            "tdx.qe-identity", f"QE ISVSVN {report.isv_svn} is below every known level"
        )
    return level


def _masked(value: bytes, mask: bytes) -> bytes:
    return bytes(v & m for v, m in zip(value, mask, strict=True))
