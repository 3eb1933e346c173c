"""A whole receipt log against the anchor chain: ``veritee verify receipts --rpc``.

Per signer, its receipts are checked against the ranges the chain holds
(:mod:`verifier.transparency.coverage`): missing seqs inside anchored ranges, receipts that
are not the anchored ones, forks, and receipts not anchored yet. A log that claims to start
at seq 1 must hold every anchored seq; a window (``--window``) only the seqs between its
first and last receipt.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson

from transcript.receipt import Receipt
from verifier.anchor.errors import MalformedInclusionProof
from verifier.anchor.proof import InclusionProof
from verifier.errors import BadInput
from verifier.transparency.coverage import SignerCoverage, check_coverage, group_by_signer

if TYPE_CHECKING:  # the chain view loads web3, which the CLI imports only when asked
    from verifier.transparency.chain import ChainView


@dataclass
class AnchoringReport:
    """The outcome of :func:`check_log_against_chain`."""

    view: ChainView
    signers: dict[str, SignerCoverage] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        totals = {"included": 0, "not_anchored": 0, "unproven": 0, "failed": 0}
        for coverage in self.signers.values():
            for state in coverage.states.values():
                totals[state] += 1
        return totals

    def ok(self, *, require_anchored: bool = False) -> bool:
        if not all(c.ok for c in self.signers.values()):
            return False
        counts = self.counts()
        return not require_anchored or counts["not_anchored"] + counts["unproven"] == 0

    def to_dict(self) -> dict[str, Any]:
        view = self.view
        return {
            "chain_id": view.chain_id,
            "anchor": view.anchor,
            "registry": view.registry,
            "block": view.at_block,
            "counts": self.counts(),
            "signers": {
                signer: {
                    "ok": coverage.ok,
                    "checkpoints": coverage.ranges,
                    "anchored_to_seq": view.histories[signer].last_seq,
                    "included": coverage.count("included"),
                    "not_anchored": coverage.count("not_anchored"),
                    "unproven": coverage.count("unproven"),
                    "failed": coverage.count("failed"),
                    "missing": coverage.missing,
                    "issues": [
                        {"check": i.check, "reason": i.reason, "seq": i.seq}
                        for i in coverage.issues
                    ],
                    "registry": {
                        "registered_at": view.enclaves[signer].registered_at,
                        "revoked_at": view.enclaves[signer].revoked_at,
                        "measurement_revoked_at": view.enclaves[signer].measurement_revoked_at,
                    },
                }
                for signer, coverage in self.signers.items()
            },
        }


def check_log_against_chain(
    receipts: Sequence[Receipt],
    view: ChainView,
    *,
    window: bool = False,
    proofs: Mapping[str, Sequence[bytes]] | None = None,
) -> AnchoringReport:
    """Check every receipt (already signature-checked) against ``view``'s anchored ranges."""
    report = AnchoringReport(view)
    for signer, own in group_by_signer(receipts).items():
        history = view.histories.get(signer)
        last = history.last_seq if history else 0
        if window:
            seqs = [r.body.seq for r in own]
            expect = (min(seqs), min(max(seqs), last))
        else:
            expect = (1, last)
        report.signers[signer] = check_coverage(
            signer, own, view.ranges(signer), proofs=proofs, expect=expect
        )
    return report


def read_inclusion_proofs(raw: bytes, origin: str = "proofs") -> dict[str, tuple[bytes, ...]]:
    """Merkle paths by receipt id, from JSONL of ``veritee.inclusion.v1`` proofs.

    The gateway's ``GET /v1/receipts/{id}/proof`` answer is accepted as a line too (its
    ``proof`` member is the inclusion proof).
    """
    out: dict[str, tuple[bytes, ...]] = {}
    for number, line in enumerate(raw.splitlines(), 1):
        if not line.strip():
            continue
        try:
            data = orjson.loads(line)
            if isinstance(data, dict) and data.get("object") == "receipt.proof":
                data = data.get("proof")
                if data is None:  # not anchored yet: nothing to prove with
                    continue
            proof = InclusionProof.from_dict(data)
        except orjson.JSONDecodeError as exc:
            raise BadInput("anchor.proof", f"{origin} line {number} is not JSON: {exc}") from None
        except MalformedInclusionProof as exc:
            raise BadInput("anchor.proof", f"{origin} line {number}: {exc.reason}") from None
        out[proof.receipt_id.hex()] = proof.path
    return out


def signers_of(receipts: Iterable[Receipt]) -> list[str]:
    return sorted({r.body.signer for r in receipts})
