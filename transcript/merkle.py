"""Merkle trees over receipt ids, as RFC 9162 (Certificate Transparency 2.0) defines them.

- leaf hash:  ``sha256(0x00 ‖ leaf)`` where a leaf is a 32-byte receipt body hash;
- node hash:  ``sha256(0x01 ‖ left ‖ right)``;
- a tree of n > 1 leaves splits at k, the largest power of two smaller than n.

The 0x00/0x01 prefixes separate leaves from nodes, so no inner node can be passed off
as a leaf (second-preimage attacks). ``docs/spec/merkle-v1.md`` specifies it and
``tests/transcript/test_merkle.py`` pins vectors.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from transcript.errors import MalformedProof


def leaf_hash(leaf: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


class MerkleTree:
    """An RFC 9162 tree, with every level kept so that each proof costs O(log n).

    Levels are built bottom-up by pairing adjacent nodes and carrying an odd last node up
    unchanged, which gives exactly RFC 9162's split-at-largest-power-of-two tree.
    """

    __slots__ = ("_levels",)

    def __init__(self, leaves: Sequence[bytes]) -> None:
        if not leaves:
            raise ValueError("a Merkle tree needs at least one leaf")
        level = [leaf_hash(leaf) for leaf in leaves]
        levels = [level]
        while len(level) > 1:
            nxt = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
            if len(level) % 2:
                nxt.append(level[-1])
            levels.append(nxt)
            level = nxt
        self._levels = levels

    @property
    def size(self) -> int:
        return len(self._levels[0])

    @property
    def root(self) -> bytes:
        return self._levels[-1][0]

    def proof(self, index: int) -> list[bytes]:
        """The audit path for leaf ``index``, from its sibling up to the root."""
        if not 0 <= index < self.size:
            raise IndexError("leaf index out of range")
        path: list[bytes] = []
        for level in self._levels[:-1]:
            sibling = index ^ 1
            if sibling < len(level):
                path.append(level[sibling])
            index >>= 1
        return path


def merkle_root(leaves: Sequence[bytes]) -> bytes:
    """The root of the tree over ``leaves`` (at least one)."""
    return MerkleTree(leaves).root


def root_from_proof(leaf: bytes, index: int, size: int, proof: Sequence[bytes]) -> bytes:
    """Recompute the root from a leaf and its audit path (RFC 9162 section 2.1.3.2).

    Raises :class:`MalformedProof` when the path has the wrong length for ``size``.
    """
    if not 0 <= index < size:
        raise MalformedProof(f"leaf index {index} is outside a tree of size {size}")
    if any(len(node) != 32 for node in proof):
        raise MalformedProof("every proof node is 32 bytes")
    fn, sn = index, size - 1
    result = leaf_hash(leaf)
    for node in proof:
        if sn == 0:
            raise MalformedProof("the proof is longer than the tree is deep")
        if fn & 1 or fn == sn:
            result = node_hash(node, result)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            result = node_hash(result, node)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise MalformedProof("the proof is shorter than the tree is deep")
    return result


def verify_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """Whether ``proof`` shows ``leaf`` at ``index`` in the tree of ``size`` with ``root``."""
    return root_from_proof(leaf, index, size, proof) == root
