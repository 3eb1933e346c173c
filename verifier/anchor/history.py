"""A signer's whole anchored chain, read once: every checkpoint with its transaction.

A verifier that checks thousands of receipts must not ask the chain once per receipt. It
reads each signer's anchored checkpoints once, from the anchor's ``CheckpointAnchored``
events (one ``eth_getLogs`` per signer, split into smaller block ranges only when the node
refuses a large one), and checks every Merkle path locally against those roots.

Events can only come from the contract at the anchor address, so they are as good as its
storage; still, the history is checked against the storage's own summary, read at the same
block: the indices run ``0..count-1`` with no gap, the ranges are contiguous from seq 1, and
the last one ends at the head's ``lastSeq`` with the head's ``lastDigest``. Anything else
(a node that hides logs, a ``from_block`` after the first checkpoint) is
:class:`ChainUnavailable`, never a silently shorter history.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from web3.exceptions import Web3RPCError

from verifier.anchor.client import EVENT, AnchorClient
from verifier.anchor.errors import ChainUnavailable
from verifier.anchor.rpc import retrying

#: Below this many blocks a range the node refuses is not split any further.
MIN_SPLIT_BLOCKS = 64


@dataclass(frozen=True, slots=True)
class AnchoredEntry:
    """One anchored checkpoint: its place in the signer's chain and the transaction."""

    signer: str
    index: int
    first_seq: int
    last_seq: int
    root: bytes
    digest: bytes
    tx_hash: bytes
    block_number: int

    def covers(self, seq: int) -> bool:
        return self.first_seq <= seq <= self.last_seq


@dataclass(frozen=True, slots=True)
class AnchoredHistory:
    """Everything ``signer`` anchored up to block ``at_block`` (the chain's head then)."""

    signer: str
    at_block: int
    entries: tuple[AnchoredEntry, ...]

    @property
    def last_seq(self) -> int:
        return self.entries[-1].last_seq if self.entries else 0

    def covering(self, seq: int) -> AnchoredEntry | None:
        """The entry whose range holds ``seq`` (binary search), or None past the end."""
        low, high = 0, len(self.entries) - 1
        while low <= high:
            middle = (low + high) // 2
            entry = self.entries[middle]
            if seq < entry.first_seq:
                high = middle - 1
            elif seq > entry.last_seq:
                low = middle + 1
            else:
                return entry
        return None


def anchored_history(
    client: AnchorClient, signer: str, *, from_block: int = 0, at_block: int | None = None
) -> AnchoredHistory:
    """Read ``signer``'s anchored checkpoints as of ``at_block`` (default: the latest block)."""
    w3 = client.contract.w3
    policy = client.contract.policy
    if at_block is None:
        at_block = int(retrying("reading the block number", lambda: w3.eth.block_number, policy))
    last_seq, count, last_digest = client.contract.read("head", signer, block=at_block)
    if int(count) == 0:
        return AnchoredHistory(signer, at_block, ())
    events = _logs(client, signer, from_block, at_block)
    by_index: dict[int, AnchoredEntry] = {}
    for event in events:
        entry = _entry(signer, event)
        by_index.setdefault(entry.index, entry)
    entries = tuple(by_index.get(i) for i in range(int(count)))
    missing = [i for i, e in enumerate(entries) if e is None]
    if missing:
        raise ChainUnavailable(
            "anchor.history",
            f"the node returned no CheckpointAnchored event for checkpoint(s) {missing[:5]} of "
            f"{signer} between blocks {from_block} and {at_block} (is from_block too late, or "
            "are old logs pruned?)",
        )
    complete = tuple(e for e in entries if e is not None)
    _check_consistent(complete, int(last_seq), bytes(last_digest))
    return AnchoredHistory(signer, at_block, complete)


def _entry(signer: str, event: Any) -> AnchoredEntry:
    args = event["args"]
    return AnchoredEntry(
        signer=signer,
        index=int(args["index"]),
        first_seq=int(args["firstSeq"]),
        last_seq=int(args["lastSeq"]),
        root=bytes(args["root"]),
        digest=bytes(args["digest"]),
        tx_hash=bytes(event["transactionHash"]),
        block_number=int(event["blockNumber"]),
    )


def _logs(client: AnchorClient, signer: str, start: int, end: int) -> list[Any]:
    """The signer's events in ``[start, end]``, halving the range while the node refuses it."""
    event = client.contract.contract.events[EVENT]()
    try:
        found = retrying(
            f"reading anchoring events of blocks {start}..{end}",
            lambda: event.get_logs(
                argument_filters={"signer": signer}, from_block=start, to_block=end
            ),
            client.contract.policy,
        )
    except Web3RPCError:
        if end - start < MIN_SPLIT_BLOCKS:
            raise
        middle = (start + end) // 2
        return _logs(client, signer, start, middle) + _logs(client, signer, middle + 1, end)
    return [e for e in found if e["address"] == client.address]


def _check_consistent(entries: tuple[AnchoredEntry, ...], last_seq: int, digest: bytes) -> None:
    expected = 1
    for entry in entries:
        if entry.first_seq != expected or entry.last_seq < entry.first_seq:
            raise ChainUnavailable(
                "anchor.history",
                f"the events of {entry.signer} do not form a contiguous chain at checkpoint "
                f"#{entry.index} (seq {entry.first_seq}..{entry.last_seq}, expected "
                f"{expected}..): the node's answers are inconsistent",
            )
        expected = entry.last_seq + 1
    if (entries[-1].last_seq, entries[-1].digest) != (last_seq, digest):
        raise ChainUnavailable(
            "anchor.history",
            f"the events of {entries[-1].signer} end at seq {entries[-1].last_seq}, the "
            f"anchor's head says {last_seq}: the node's answers are inconsistent",
        )
