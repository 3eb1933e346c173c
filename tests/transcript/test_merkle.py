"""RFC 9162 Merkle trees: the level-based tree against a literal reading of the RFC."""

from __future__ import annotations

import contextlib
import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from transcript import MalformedProof, MerkleTree, merkle_root, verify_inclusion
from transcript.merkle import root_from_proof


def rfc_mth(leaves: list[bytes]) -> bytes:
    """MTH(D[n]) exactly as RFC 9162 section 2.1.1 defines it (recursive)."""
    n = len(leaves)
    if n == 1:
        return hashlib.sha256(b"\x00" + leaves[0]).digest()
    k = 1 << ((n - 1).bit_length() - 1)
    return hashlib.sha256(b"\x01" + rfc_mth(leaves[:k]) + rfc_mth(leaves[k:])).digest()


def rfc_path(m: int, leaves: list[bytes]) -> list[bytes]:
    """PATH(m, D[n]) as RFC 9162 section 2.1.3.1 defines it."""
    n = len(leaves)
    if n == 1:
        return []
    k = 1 << ((n - 1).bit_length() - 1)
    if m < k:
        return [*rfc_path(m, leaves[:k]), rfc_mth(leaves[k:])]
    return [*rfc_path(m - k, leaves[k:]), rfc_mth(leaves[:k])]


def leaves_of(n: int) -> list[bytes]:
    return [hashlib.sha256(i.to_bytes(4, "big")).digest() for i in range(n)]


@pytest.mark.parametrize("n", [*range(1, 34), 63, 64, 65, 100])
def test_roots_and_every_proof_match_the_rfc(n: int) -> None:
    leaves = leaves_of(n)
    tree = MerkleTree(leaves)
    assert tree.root == rfc_mth(leaves) == merkle_root(leaves)
    for m in range(n):
        proof = tree.proof(m)
        assert proof == rfc_path(m, leaves)
        assert verify_inclusion(leaves[m], m, n, proof, tree.root)


# RFC 6962 reference vectors (the certificate-transparency merkle_tree_test inputs and roots).
RFC6962_LEAVES = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    bytes(range(0x50, 0x58)),
    bytes(range(0x60, 0x70)),
]
RFC6962_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]


@pytest.mark.parametrize("n", range(1, 9))
def test_rfc6962_reference_roots(n: int) -> None:
    assert MerkleTree(RFC6962_LEAVES[:n]).root.hex() == RFC6962_ROOTS[n - 1]


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=1, max_value=300), st.data())
def test_proofs_do_not_verify_for_other_leaves_or_positions(n: int, data: st.DataObject) -> None:
    leaves = leaves_of(n)
    tree = MerkleTree(leaves)
    m = data.draw(st.integers(min_value=0, max_value=n - 1))
    proof = tree.proof(m)
    assert not verify_inclusion(b"\x00" * 32, m, n, proof, tree.root)
    if n > 1:
        other = (m + 1) % n
        with contextlib.suppress(MalformedProof):
            assert not verify_inclusion(leaves[m], other, n, proof, tree.root)
        if proof:
            bad = [*proof]
            bad[0] = bytes(32)
            assert not verify_inclusion(leaves[m], m, n, bad, tree.root)


def test_malformed_proofs() -> None:
    leaves = leaves_of(5)
    tree = MerkleTree(leaves)
    with pytest.raises(MalformedProof):
        root_from_proof(leaves[0], 5, 5, tree.proof(0))
    with pytest.raises(MalformedProof):
        root_from_proof(leaves[0], 0, 5, [*tree.proof(0), bytes(32)])
    with pytest.raises(MalformedProof):
        root_from_proof(leaves[0], 0, 5, tree.proof(0)[:-1])
    with pytest.raises(MalformedProof):
        root_from_proof(leaves[0], 0, 5, [b"short"])
    with pytest.raises(ValueError):
        MerkleTree([])


def test_leaf_and_node_hashes_are_domain_separated() -> None:
    a, b = leaves_of(2)
    tree = MerkleTree([a, b])
    # The root of [a, b] is not the leaf hash of (hash(a) ‖ hash(b)): prefixes differ.
    inner = hashlib.sha256(b"\x00" + a).digest() + hashlib.sha256(b"\x00" + b).digest()
    assert MerkleTree([inner[:32]]).root != tree.root
    assert hashlib.sha256(b"\x00" + inner).digest() != tree.root
