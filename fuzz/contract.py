"""The contract every fuzz target checks, and the multi-part input of the verifier targets.

A target feeds fuzzed bytes to one parser (or one verifier). The parser keeps its contract
when it returns, or raises one of the target's *allowed* exceptions: its named errors
(``MalformedEvidence``, ``MalformedReceipt``, ``BadInput``...). Any other exception is a
crash: atheris reports it and writes the input out. A harness may also check invariants
of what was parsed (a parsed SNP report re-serialises to the bytes that were signed) and
raise :class:`ContractViolation` when one fails.

Verifier targets need several blobs at once (a report, certificates, collateral). They
take one input made of parts joined by :data:`SEPARATOR`: the first part is the report,
every other part is ``<kind>.<name>=<bytes>`` or ``report_data=<64 bytes>``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fuzz.material import Material

Harness = Callable[[bytes], None]
# The verification times of the verifier targets: inside every real vector's validity window
# and the simulators' (which are created at these times). TDX: the dcap-qvl collateral's
# month; SNP and vTPM: after the Genoa VCEK was issued.
TDX_NOW = datetime(2025, 7, 1, tzinfo=UTC)
SNP_NOW = datetime(2025, 9, 1, tzinfo=UTC)
VTPM_NOW = SNP_NOW
SEPARATOR = b"\n\x00--veritee-part--\x00\n"
# Where each named part of a multi-part input goes in an Evidence.
PART_KINDS = {"cert": "certificates", "coll": "collateral", "extra": "extra"}


class ContractViolation(AssertionError):
    """A parser returned something that breaks an invariant the verifier relies on."""


@dataclass(frozen=True)
class Context:
    """What harnesses may need beyond the input: the simulators' state (their roots)."""

    state: Path


@dataclass(frozen=True)
class Target:
    """One fuzz target.

    - ``run(context, data)`` feeds ``data`` to the code under test;
    - ``allowed``: the exceptions that keep the contract (named errors);
    - ``seeds(material)``: the seed inputs (see :mod:`fuzz.material`);
    - ``max_len``: the longest input libFuzzer generates;
    - ``weight``: the campaign runs this target ``weight`` times the base duration;
    - ``dictionary``: tokens libFuzzer splices in (keys and keywords of text formats).
    """

    name: str
    summary: str
    allowed: tuple[type[BaseException], ...]
    run: Callable[[Context, bytes], object]
    seeds: Callable[[Material], Iterable[bytes]]
    max_len: int = 4096
    weight: int = 1
    dictionary: tuple[bytes, ...] = ()

    def harness(self, context: Context) -> Harness:
        """The function atheris calls: the target, with its allowed exceptions swallowed."""
        allowed, run = self.allowed, self.run

        def one_input(data: bytes) -> None:
            try:
                run(context, data)
            except allowed:
                return

        return one_input


def join_parts(report: bytes, parts: Mapping[str, bytes]) -> bytes:
    """A multi-part input: ``report``, then ``name=value`` for each part."""
    return SEPARATOR.join(
        [report, *(name.encode() + b"=" + value for name, value in parts.items())]
    )


def split_parts(data: bytes) -> tuple[bytes, dict[str, dict[str, bytes]], bytes | None]:
    """(report, {kind: {name: bytes}}, report_data) of a multi-part input.

    Parts without ``=``, with an unknown kind or a name that is not UTF-8 are dropped (the
    fuzzer mutates the names too); a later part of the same name wins.
    """
    report, *rest = data.split(SEPARATOR)
    named: dict[str, dict[str, bytes]] = {kind: {} for kind in PART_KINDS.values()}
    report_data = None
    for part in rest:
        name, sep, value = part.partition(b"=")
        if not sep:
            continue
        if name == b"report_data":
            report_data = value
            continue
        kind, dot, key = name.partition(b".")
        if not dot or kind.decode("ascii", "replace") not in PART_KINDS:
            continue
        try:
            named[PART_KINDS[kind.decode()]][key.decode()] = value
        except UnicodeDecodeError:
            continue
    return report, named, report_data


def evidence_parts(
    report: bytes,
    report_data: bytes,
    certificates: Mapping[str, bytes] = {},
    collateral: Mapping[str, bytes] = {},
    extra: Mapping[str, bytes] = {},
) -> bytes:
    """The multi-part input of one piece of evidence."""
    parts = {"report_data": report_data}
    for kind, mapping in (("cert", certificates), ("coll", collateral), ("extra", extra)):
        parts.update({f"{kind}.{name}": value for name, value in sorted(mapping.items())})
    return join_parts(report, parts)
