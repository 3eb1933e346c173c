"""Errors raised by the transcript package.

The tree, drawn once::

    TranscriptError                  base of everything raised here
    ├── MalformedReceipt             bytes/JSON that are not a well-formed receipt (bad input)
    ├── MalformedCheckpoint          the same for checkpoints
    ├── MalformedProof               an inclusion proof that cannot be a proof for this tree
    └── SignatureInvalid             a well-formed signature that does not verify, or is malleable

Malformed* errors mean "this is not even the right shape" (CLI exit 2); SignatureInvalid
means "checked and failed" (CLI exit 1).
"""

from __future__ import annotations


class TranscriptError(Exception):
    """Base class for every error raised by :mod:`transcript`."""


class MalformedReceipt(TranscriptError, ValueError):
    """A receipt (or its JSON) is not well formed. ``field`` names the offending field."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        self.field = field
        super().__init__(f"{field}: {message}" if field else message)


class MalformedCheckpoint(TranscriptError, ValueError):
    """A checkpoint (or its JSON) is not well formed."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        self.field = field
        super().__init__(f"{field}: {message}" if field else message)


class MalformedProof(TranscriptError, ValueError):
    """An inclusion proof has the wrong shape for the tree it claims to belong to."""


class SignatureInvalid(TranscriptError):
    """A signature is well formed but does not verify, or is not in canonical (low-s) form."""
