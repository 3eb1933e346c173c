"""What verifying an audit bundle found: per enclave, per receipt, and every failure explained.

The CLI prints it, writes it as JSON, or renders it as HTML (:mod:`verifier.audit.html`).
Each failure carries the ``check`` that failed, the ``subject`` it concerns (a file, an
enclave, a receipt, a checkpoint), the precise ``reason``, and an explanation of what it
means for whoever relies on the bundle (:data:`EXPLANATIONS`, by check family).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from verifier.audit.layout import Manifest

#: What a failed check means, for the report's reader, by the check's first component(s).
EXPLANATIONS: dict[str, str] = {
    "bundle.manifest": "A file differs from what the manifest lists: the bundle was changed "
    "after it was exported (or damaged in transit).",
    "bundle.unlisted": "The bundle holds a file its manifest does not list: something was "
    "added after export.",
    "evidence": "The enclave's hardware attestation did not verify under the trusted roots "
    "and the policy: nothing its key signed can be attributed to a genuine, approved enclave.",
    "binding": "The attestation evidence does not bind the enclave's keyset: the signing key "
    "cannot be tied to the hardware.",
    "policy": "The evidence is genuine, but the policy rejects what it shows (image, debug "
    "mode, TCB): the enclave was not an approved one.",
    "receipt.signature": "The receipt does not carry a valid signature of the attested key: "
    "its content was changed after the enclave signed it.",
    "receipt.signer": "The receipt names a signing key that no verified evidence in the "
    "bundle attests.",
    "receipt.keyset": "The receipt names another keyset than the one its enclave attested.",
    "receipt.validity": "The receipt was signed outside its keyset's validity window.",
    "receipt.malformed": "A line of receipts.jsonl is not a well-formed receipt.",
    "chain": "The receipts of one key do not form an unbroken hash chain (seq and prev): "
    "a receipt is missing, duplicated, forked or out of order.",
    "checkpoint": "A checkpoint is not a valid, enclave-signed commitment that links to the "
    "one before it.",
    "transparency.missing": "A receipt the enclave committed to in a signed checkpoint is not "
    "in the bundle: it was deleted or withheld.",
    "transparency.root": "The receipts of a checkpoint's range do not hash to the root the "
    "enclave signed: one was altered or substituted.",
    "transparency.proof": "A receipt's Merkle path does not lead to its checkpoint's root: "
    "the receipt is not the one the enclave committed to.",
    "transparency.fork": "Two different receipts claim the same position in one key's log.",
    "transparency.unproven": "Nothing in the bundle shows that the enclave committed to this "
    "receipt: the checkpoint that covers it, or its Merkle path, was left out.",
    "anchor": "The anchor chain does not confirm what the bundle says was anchored.",
}


def explain(check: str) -> str:
    parts = check.split(".")
    for n in range(len(parts), 0, -1):
        found = EXPLANATIONS.get(".".join(parts[:n]))
        if found is not None:
            return found
    if parts[0] in ("snp", "tdx", "nitro", "vtpm", "collateral", "platform"):
        return EXPLANATIONS["evidence"]
    return "A check failed."


@dataclass(frozen=True)
class Failure:
    check: str
    subject: str
    reason: str

    @property
    def explanation(self) -> str:
        return explain(self.check)

    def __str__(self) -> str:
        return f"{self.subject}: {self.check}: {self.reason}"

    def to_dict(self) -> dict[str, str]:
        return {
            "check": self.check,
            "subject": self.subject,
            "reason": self.reason,
            "explanation": self.explanation,
        }


@dataclass
class EnclaveVerdict:
    signer: str
    enclave: str
    platform: str
    ok: bool
    detail: str
    warnings: list[str] = field(default_factory=list)


@dataclass(slots=True)
class ReceiptRow:
    """The verdict for one transcript (receipt)."""

    line: int
    receipt_id: str
    signer: str | None
    seq: int | None
    time_ms: int | None
    model: str | None
    status: str | None
    ok: bool
    inclusion: str
    problems: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "receipt_id": self.receipt_id,
            "signer": self.signer,
            "seq": self.seq,
            "time_ms": self.time_ms,
            "model": self.model,
            "status": self.status,
            "verified": self.ok,
            "inclusion": self.inclusion,
            "problems": self.problems,
        }


@dataclass
class BundleReport:
    manifest: Manifest
    policy_source: str
    enclaves: list[EnclaveVerdict] = field(default_factory=list)
    receipts: list[ReceiptRow] = field(default_factory=list)  # filled when rows are asked for
    tally: Counter[str] = field(default_factory=Counter)  # receipts by inclusion, and "ok"
    checkpoints: int = 0
    anchored_checkpoints: int = 0
    failures: list[Failure] = field(default_factory=list)
    unchecked: list[Failure] = field(default_factory=list)  # no verdict (missing collateral...)
    notes: list[str] = field(default_factory=list)
    chain: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        return not self.failures and not self.unchecked

    def summary(self) -> dict[str, Any]:
        inclusion = {k: n for k, n in self.tally.items() if k not in ("ok", "total")}
        return {
            "verified": self.ok,
            "receipts": self.tally["total"],
            "receipts_ok": self.tally["ok"],
            "enclaves": len(self.enclaves),
            "enclaves_ok": sum(1 for e in self.enclaves if e.ok),
            "checkpoints": self.checkpoints,
            "anchored_checkpoints": self.anchored_checkpoints,
            "failures": len(self.failures),
            "inclusion": dict(sorted(inclusion.items())),
            "tenant": self.manifest.tenant,
            "chain_checked": self.chain is not None,
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "summary": self.summary(),
            "policy": self.policy_source,
            "window": {"from_ms": self.manifest.from_ms, "to_ms": self.manifest.to_ms},
            "chain": self.chain,
            "enclaves": [vars(e) for e in self.enclaves],
            "failures": [f.to_dict() for f in self.failures],
            "could_not_check": [f.to_dict() for f in self.unchecked],
            "notes": self.notes,
            "receipts": [r.to_dict() for r in self.receipts],
        }
