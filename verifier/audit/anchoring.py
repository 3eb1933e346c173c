"""Where each of the bundle's checkpoints stands on the anchor chain.

Offline, the bundle's anchoring records are claims: each must name a checkpoint the bundle
holds (by its hash), and the report says "claimed, not checked". With a chain (a
:class:`~verifier.transparency.chain.ChainView` for the anchor the verifier trusts), each
checkpoint must be exactly the one anchored at its place in its signer's chain (same first
seq, same digest, which covers every signed field), and a transaction the bundle names
must be the one that anchored it. A checkpoint past the chain's head is "not anchored yet".
"""

from __future__ import annotations

from typing import Any

from transcript.checkpoint import SignedCheckpoint
from verifier.audit.commitments import Anchored
from verifier.audit.report import BundleReport, Failure


def check_anchoring(
    report: BundleReport,
    checkpoints: dict[str, list[SignedCheckpoint]],
    claims: dict[tuple[str, int], Anchored],
    chain: Any,
) -> dict[tuple[str, int], str]:
    """A sentence per (signer, first_seq) on its anchoring; failures go to ``report``."""
    held = {
        (signer, cp.checkpoint.first_seq): cp for signer, cps in checkpoints.items() for cp in cps
    }
    for key, claim in sorted(claims.items()):
        cp = held.get(key)
        if cp is None or cp.hash != claim.checkpoint:
            report.failures.append(
                Failure(
                    "anchor.claim",
                    "anchorings.jsonl",
                    f"it names checkpoint 0x{claim.checkpoint.hex()} (seq {claim.first_seq} of "
                    f"{claim.signer}), which is not a valid checkpoint of this bundle",
                )
            )
    if chain is None:
        return _offline(report, held, claims)
    return _online(report, held, claims, chain)


def _offline(
    report: BundleReport,
    held: dict[tuple[str, int], SignedCheckpoint],
    claims: dict[tuple[str, int], Anchored],
) -> dict[tuple[str, int], str]:
    out: dict[tuple[str, int], str] = {}
    for key, cp in held.items():
        claim = claims.get(key)
        if claim is not None and claim.checkpoint == cp.hash:
            report.anchored_checkpoints += 1
            out[key] = (
                f"anchoring claimed in tx 0x{claim.tx_hash.hex()} (block {claim.block_number}); "
                "not checked: pass --rpc and --contract"
            )
        else:
            out[key] = "not anchored (the bundle names no transaction)"
    if claims:
        report.notes.append(
            "anchoring was not checked against a chain (offline): pass --rpc URL and "
            "--contract ADDR to check it"
        )
    return out


def _online(
    report: BundleReport,
    held: dict[tuple[str, int], SignedCheckpoint],
    claims: dict[tuple[str, int], Anchored],
    chain: Any,
) -> dict[tuple[str, int], str]:
    report.chain = {
        "chain_id": chain.chain_id,
        "anchor": chain.anchor,
        "registry": chain.registry,
        "block": chain.at_block,
    }
    out: dict[tuple[str, int], str] = {}
    for (signer, first), cp in sorted(held.items()):
        c = cp.checkpoint
        subject = f"checkpoint seq {c.first_seq}..{c.last_seq} of {signer}"
        claim = claims.get((signer, first))
        entry = chain.entry(signer, first)
        history = chain.histories.get(signer)
        anchored_to = history.last_seq if history is not None else 0
        if entry is not None and entry.digest == cp.hash and entry.last_seq == c.last_seq:
            report.anchored_checkpoints += 1
            if claim is not None and claim.tx_hash != entry.tx_hash:
                report.failures.append(
                    Failure(
                        "anchor.transaction",
                        subject,
                        f"the bundle says transaction 0x{claim.tx_hash.hex()} anchored it; "
                        f"the chain anchored it in 0x{entry.tx_hash.hex()}",
                    )
                )
            out[(signer, first)] = (
                f"anchored as #{entry.index} in tx 0x{entry.tx_hash.hex()} (block "
                f"{entry.block_number}), checked on chain {chain.chain_id}"
            )
        elif c.first_seq > anchored_to:
            out[(signer, first)] = (
                f"not anchored yet (the chain holds {signer} up to seq {anchored_to})"
            )
            if claim is not None:
                report.failures.append(
                    Failure(
                        "anchor.transaction",
                        subject,
                        f"the bundle says transaction 0x{claim.tx_hash.hex()} anchored it; "
                        f"the anchor holds this signer only up to seq {anchored_to}",
                    )
                )
        else:
            report.failures.append(
                Failure(
                    "anchor.fork",
                    subject,
                    "the chain anchored a different checkpoint for these seqs: this one is "
                    "not the enclave's anchored commitment",
                )
            )
            out[(signer, first)] = "conflicts with the anchored chain"
    for signer, record in sorted(chain.enclaves.items()):
        if record.revoked_at or record.measurement_revoked_at:
            report.notes.append(
                f"{signer} has been revoked in the registry since (block "
                f"{record.revoked_at or record.measurement_revoked_at}); its anchored "
                "checkpoints were accepted while it was active"
            )
    return out
