"""Completeness and inclusion of receipt logs against checkpoints and the anchor chain.

- :mod:`verifier.transparency.coverage`: local checks of a signer's receipts against its
  checkpointed ranges (roots rebuilt, Merkle paths checked, missing seqs named);
- :mod:`verifier.transparency.chain`: each signer's anchored ranges, read once from a chain
  (loads web3: import it only when a chain is asked).
"""

from verifier.transparency.coverage import (
    STATES,
    CoverageIssue,
    Range,
    SignerCoverage,
    State,
    check_coverage,
    group_by_signer,
)

__all__ = [
    "STATES",
    "CoverageIssue",
    "Range",
    "SignerCoverage",
    "State",
    "check_coverage",
    "group_by_signer",
]
