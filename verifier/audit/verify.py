"""Verifying an audit bundle, offline (and against a chain when one is given).

In order, never stopping at the first problem:

1. the files against the manifest (changed, missing or extra files);
2. each enclave's attestation document, under the policy and the verifier's own roots;
3. every receipt: well formed, signed by an attested key, bound to its keyset, and each
   key's hash chain (:func:`verifier.receipts.verify_receipt_log`);
4. the checkpoints: enclave-signed, by attested keys, linked
   (:mod:`verifier.audit.commitments`);
5. inclusion and completeness: each receipt in its checkpoint (the range's root rebuilt, or
   its Merkle path), and, unless the bundle is filtered to one tenant, every seq of every
   checkpointed range present (:mod:`verifier.transparency.coverage`);
6. with a chain (``--rpc``): each checkpoint is the one anchored at its place in its
   signer's chain, by the transaction the bundle names, and the chain's ranges are checked
   against the receipts too.

Failures are collected in a :class:`BundleReport`; bad structure raises :class:`BadInput`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from transcript.chain import Gap
from transcript.checkpoint import SignedCheckpoint
from verifier.audit.anchoring import check_anchoring
from verifier.audit.commitments import (
    check_checkpoints,
    checkpoint_range,
    read_anchorings,
    read_checkpoints,
    read_proofs,
)
from verifier.audit.enclaves import RootsFor, check_enclaves
from verifier.audit.layout import ANCHORINGS, CHECKPOINTS, COLLATERAL, POLICY, PROOFS, RECEIPTS
from verifier.audit.report import BundleReport, Failure
from verifier.audit.rows import receipt_rows, tally
from verifier.audit.tarball import RawBundle, file_entry
from verifier.errors import BadInput, VerificationFailed
from verifier.policy import Policy
from verifier.receipts import ReceiptLogReport, verify_receipt_log
from verifier.transparency.coverage import SignerCoverage, check_coverage, group_by_signer

Progress = Callable[[int, int], None]
PROGRESS_EVERY = 2048


def verify_bundle(
    bundle: RawBundle,
    *,
    roots_for: RootsFor,
    policy: Policy | None = None,
    chain: Any = None,
    progress: Progress | None = None,
    rows: bool = True,
) -> BundleReport:
    """Verify ``bundle``; ``policy`` overrides the bundle's own, ``chain`` is a
    :class:`verifier.transparency.chain.ChainView` (or None: offline). ``rows``: also make
    the verdict row of every receipt (for JSON and HTML; the summary does not need them)."""
    failures, tampered = _check_files(bundle)
    policy = policy or _bundle_policy(bundle, tampered)
    report = BundleReport(bundle.manifest, policy.source, failures=failures)
    files = bundle.files
    report.failures += _check_counts(bundle)
    collateral = _collateral(files.get(COLLATERAL))
    enclaves = check_enclaves(
        files, policy=policy, roots_for=roots_for, collateral=collateral, tampered=tampered
    )
    report.enclaves, report.unchecked = enclaves.verdicts, enclaves.unchecked
    report.failures += enclaves.failures
    receipts_raw = files.get(RECEIPTS, b"")
    total = receipts_raw.count(b"\n") + 1
    log = verify_receipt_log(
        _counted(receipts_raw, total, progress),
        keysets=enclaves.keysets.values(),
        start_seq=None,
        keep_receipts=True,
    )
    if any(p.check == "receipt.malformed" for p in log.problems) and RECEIPTS not in tampered:
        first = next(p for p in log.problems if p.check == "receipt.malformed")
        raise BadInput("bundle.malformed", f"{RECEIPTS} {first}")
    checkpoints, cp_failures = check_checkpoints(
        _parsed(read_checkpoints, files, CHECKPOINTS, tampered, []), enclaves.keysets
    )
    report.failures += cp_failures
    report.checkpoints = sum(len(c) for c in checkpoints.values())
    proofs = _parsed(read_proofs, files, PROOFS, tampered, {})
    claims = _parsed(read_anchorings, files, ANCHORINGS, tampered, {})
    coverage = _coverage(log, checkpoints, proofs, complete=bundle.manifest.tenant is None)
    anchoring = check_anchoring(report, checkpoints, claims, chain)
    report.tally = tally(log, coverage)
    if rows:
        report.receipts = receipt_rows(receipts_raw, log, coverage, checkpoints, anchoring)
    _collect(report, log, coverage, tenant=bundle.manifest.tenant is not None)
    if bundle.manifest.tenant is not None:
        report.notes.append(
            f"the bundle holds only tenant {bundle.manifest.tenant!r}'s receipts: seq gaps "
            "(other tenants' receipts) are expected, so completeness is not checked; each "
            "receipt's inclusion is checked with its Merkle path"
        )
    report.notes += [f"exporter: {w}" for w in bundle.manifest.warnings]
    return report


def _check_files(bundle: RawBundle) -> tuple[list[Failure], set[str]]:
    failures: list[Failure] = []
    tampered: set[str] = set()
    for name, entry in sorted(bundle.manifest.files.items()):
        data = bundle.files.get(name)
        if data is None:
            failures.append(Failure("bundle.manifest", name, "listed in the manifest, missing"))
            tampered.add(name)
        elif file_entry(data) != entry:
            failures.append(
                Failure("bundle.manifest", name, "its content does not match the manifest's hash")
            )
            tampered.add(name)
    for name in sorted(set(bundle.files) - set(bundle.manifest.files)):
        failures.append(Failure("bundle.unlisted", name, "not listed in the manifest"))
        tampered.add(name)
    for name in bundle.unlisted:
        failures.append(Failure("bundle.unlisted", name, "not a file a bundle may hold"))
    return failures, tampered


_COUNTED = {"receipts": RECEIPTS, "checkpoints": CHECKPOINTS, "proofs": PROOFS,
            "anchorings": ANCHORINGS}  # fmt: skip


def _check_counts(bundle: RawBundle) -> list[Failure]:
    """The manifest's counts against the files (a changed count is a changed bundle)."""
    actual = {
        name: sum(1 for line in bundle.files.get(file, b"").split(b"\n") if line.strip())
        for name, file in _COUNTED.items()
    }
    actual["enclaves"] = sum(1 for n in bundle.files if n.startswith("enclaves/"))
    return [
        Failure(
            "bundle.manifest",
            "manifest.json",
            f"it counts {bundle.manifest.counts.get(name)} {name}, the bundle holds {count}",
        )
        for name, count in actual.items()
        if bundle.manifest.counts.get(name) != count
    ]


def _bundle_policy(bundle: RawBundle, tampered: set[str]) -> Policy:
    raw = bundle.files.get(POLICY)
    if raw is None:
        raise BadInput("bundle.malformed", f"the bundle has no {POLICY}: pass --policy")
    try:
        return Policy.from_toml(raw.decode("utf-8"), source=f"the bundle's {POLICY}")
    except (UnicodeDecodeError, BadInput) as exc:
        if POLICY in tampered:
            raise VerificationFailed(
                "bundle.manifest", f"{POLICY} was changed after export and no longer parses"
            ) from None
        raise BadInput("bundle.malformed", f"{POLICY}: {exc}") from None


def _collateral(raw: bytes | None) -> Any:
    if raw is None:
        return None
    from verifier.collateral import load_bundle

    return load_bundle(raw, COLLATERAL)


def _parsed(read: Callable[[bytes], Any], files: dict[str, bytes], name: str, tampered: set[str],
            empty: Any) -> Any:  # fmt: skip
    try:
        return read(files.get(name, b""))
    except BadInput:
        if name in tampered:  # reported already as a changed file
            return empty
        raise


def _counted(raw: bytes, total: int, progress: Progress | None) -> Iterator[tuple[int, bytes]]:
    for number, line in enumerate(raw.split(b"\n"), 1):
        if progress is not None and number % PROGRESS_EVERY == 0:
            progress(number, total)
        if line.strip():
            yield number, line
    if progress is not None:
        progress(total, total)


def _coverage(
    log: ReceiptLogReport,
    checkpoints: dict[str, list[SignedCheckpoint]],
    proofs: dict[str, tuple[bytes, ...]],
    *,
    complete: bool,
) -> dict[str, SignerCoverage]:
    invalid: dict[str, set[int]] = {}
    for p in log.problems:
        if p.signer is not None and p.seq is not None:
            invalid.setdefault(p.signer, set()).add(p.seq)
    out: dict[str, SignerCoverage] = {}
    for signer, own in group_by_signer(log.receipts).items():
        cps = checkpoints.get(signer, [])
        ranges = [checkpoint_range(c) for c in cps]
        expect = (cps[0].checkpoint.first_seq, cps[-1].checkpoint.last_seq) if cps else None
        out[signer] = check_coverage(
            signer,
            own,
            ranges,
            proofs=proofs,
            expect=expect if complete else None,
            invalid=invalid.get(signer, ()),
        )
    return out


def _collect(
    report: BundleReport,
    log: ReceiptLogReport,
    coverage: dict[str, SignerCoverage],
    *,
    tenant: bool,
) -> None:
    for p in log.problems:
        subject = f"receipt {p.receipt_id} (seq {p.seq})" if p.receipt_id else f"line {p.line}"
        report.failures.append(Failure(p.check, subject, p.reason))
    for signer, chain in log.chains.items():
        missing = set(coverage[signer].missing) if signer in coverage else set()
        for issue in chain.issues:
            if isinstance(issue, Gap) and (
                tenant or all(s in missing for s in range(issue.missing_from, issue.missing_to + 1))
            ):
                continue  # other tenants' receipts, or reported below with its checkpoint
            report.failures.append(Failure("chain", f"receipts of {signer}", str(issue)))
    for signer, cov in coverage.items():
        for rid, state in cov.states.items():
            if state == "unproven":
                report.failures.append(
                    Failure(
                        "transparency.unproven",
                        f"receipt {rid}",
                        f"no checkpoint of the bundle proves it ({cov.where.get(rid, 'none covers it')}): "
                        "its checkpoint or its Merkle path was left out",
                    )
                )
        for found in cov.issues:
            subject = f"receipt {found.receipt_id}" if found.receipt_id else f"receipts of {signer}"
            report.failures.append(Failure(found.check, subject, found.reason))
