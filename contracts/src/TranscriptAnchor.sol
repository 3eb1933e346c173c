// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {IEnclaveRegistry} from "./IEnclaveRegistry.sol";
import {VeriteeSignatures} from "./VeriteeSignatures.sol";

/// @title TranscriptAnchor
/// @notice Anchors enclave-signed checkpoints (Merkle roots over contiguous receipt ranges) so
///         that no receipt range of a registered enclave can later be rewritten or left out.
/// @dev Anyone may submit: the enclave's signature, not the sender, authorises a checkpoint.
///      Each accepted checkpoint extends its signer's chain: its `firstSeq` is one past the last
///      anchored `lastSeq` (1 for the first) and its `prev` is the last anchored checkpoint's
///      digest (zero for the first). One transaction per checkpoint, whatever its size.
///
///      Storage per checkpoint is two fresh slots (the root's record and the signer's i-th root)
///      plus two updated slots of the signer's head. docs/spec/anchor-contracts.md explains the
///      layout and gives gas figures.
contract TranscriptAnchor {
    /// A signer's chain head: two slots, both rewritten by every checkpoint.
    struct Head {
        bytes32 lastDigest; // slot 0: digest of the last anchored checkpoint (0 before the first)
        uint64 lastSeq; //     slot 1: its lastSeq (0 before the first)
        uint32 count; //               checkpoints anchored so far
        uint32 id; //                  compact signer id (index in _signers plus one), 0 = none yet
    }

    /// Where and what a root anchored: exactly one slot.
    struct Record {
        uint32 signerId;
        uint32 index;
        uint64 firstSeq;
        uint64 lastSeq;
        uint64 blockNumber;
    }

    /// The registry that says which signers are active. Immutable: a new registry needs a new anchor.
    IEnclaveRegistry public immutable registry;

    address[] private _signers;
    mapping(address signer => Head) private _heads;
    mapping(address signer => mapping(uint256 index => bytes32 root)) private _roots;
    /// The first anchoring of each root. Roots of honest enclaves never repeat (leaves are
    /// receipt ids, which name their signer and seq), so a repeat is some key signing a copied
    /// root. A later anchoring of a root by another signer goes to `_repeats`, so that a copy
    /// anchored first can never block the signer the root belongs to.
    mapping(bytes32 root => Record) private _byRoot;
    mapping(address signer => mapping(bytes32 root => Record)) private _repeats;

    event CheckpointAnchored(
        address indexed signer, bytes32 indexed root, uint32 index, uint64 firstSeq, uint64 lastSeq, bytes32 digest
    );

    error SignerMismatch(address recovered, address signer);
    error EnclaveNotActive(address signer);
    error EmptyRange(uint64 firstSeq, uint64 lastSeq);
    error NotContiguous(uint64 expectedFirstSeq, uint64 firstSeq);
    error PrevMismatch(bytes32 expectedPrev, bytes32 prev);
    error RootAlreadyAnchored(address signer, bytes32 root);
    error NoSuchCheckpoint(address signer, uint256 index);

    constructor(IEnclaveRegistry registry_) {
        registry = registry_;
    }

    /// @notice Anchor a checkpoint. Reverts unless every check in the spec passes.
    /// @return index the checkpoint's position in its signer's chain (0 for the first)
    function submitCheckpoint(
        address signer,
        uint64 firstSeq,
        uint64 lastSeq,
        bytes32 root,
        bytes32 prev,
        bytes32 keysetHash,
        uint64 timeMs,
        bytes calldata signature
    ) external returns (uint32 index) {
        bytes32 digest =
            VeriteeSignatures.checkpointDigest(signer, firstSeq, lastSeq, root, prev, keysetHash, timeMs);
        address recovered = VeriteeSignatures.recover(digest, signature);
        if (recovered != signer) revert SignerMismatch(recovered, signer);
        if (!registry.isActive(signer)) revert EnclaveNotActive(signer);

        Head storage h = _heads[signer];
        uint64 expectedFirst = h.lastSeq + 1;
        if (firstSeq != expectedFirst) revert NotContiguous(expectedFirst, firstSeq);
        if (lastSeq < firstSeq) revert EmptyRange(firstSeq, lastSeq);
        bytes32 expectedPrev = h.lastDigest;
        if (prev != expectedPrev) revert PrevMismatch(expectedPrev, prev);

        uint32 id = h.id;
        if (id == 0) {
            _signers.push(signer);
            id = uint32(_signers.length);
            h.id = id;
        }
        index = h.count;
        Record memory record = Record(id, index, firstSeq, lastSeq, uint64(block.number));
        Record storage first = _byRoot[root];
        if (first.signerId == 0) {
            _byRoot[root] = record;
        } else {
            Record storage repeat = _repeats[signer][root];
            if (first.signerId == id || repeat.signerId != 0) revert RootAlreadyAnchored(signer, root);
            _repeats[signer][root] = record;
        }
        _roots[signer][index] = root;
        h.lastDigest = digest;
        h.lastSeq = lastSeq;
        h.count = index + 1;
        emit CheckpointAnchored(signer, root, index, firstSeq, lastSeq, digest);
    }

    /// @notice The first anchoring of `root`; `signer` is address(0) when it was never anchored.
    function checkpointByRoot(bytes32 root)
        external
        view
        returns (address signer, uint32 index, uint64 firstSeq, uint64 lastSeq, uint64 blockNumber)
    {
        Record storage r = _byRoot[root];
        if (r.signerId == 0) return (address(0), 0, 0, 0, 0);
        return (_signers[r.signerId - 1], r.index, r.firstSeq, r.lastSeq, r.blockNumber);
    }

    /// @notice The `index`-th checkpoint of `signer` (0-based). Reverts when there is none.
    function checkpointAt(address signer, uint256 index)
        external
        view
        returns (bytes32 root, uint64 firstSeq, uint64 lastSeq, uint64 blockNumber)
    {
        Head storage h = _heads[signer];
        if (index >= h.count) revert NoSuchCheckpoint(signer, index);
        root = _roots[signer][index];
        Record storage r = _byRoot[root];
        if (r.signerId != h.id) r = _repeats[signer][root];
        return (root, r.firstSeq, r.lastSeq, r.blockNumber);
    }

    /// @notice A signer's chain head: its last anchored seq (0 if none), how many checkpoints
    ///         it has anchored, and the last checkpoint's digest (the next one's `prev`).
    function head(address signer) external view returns (uint64 lastSeq, uint32 count, bytes32 lastDigest) {
        Head storage h = _heads[signer];
        return (h.lastSeq, h.count, h.lastDigest);
    }

    /// @notice How many distinct signers have anchored at least one checkpoint.
    function signerCount() external view returns (uint256) {
        return _signers.length;
    }

    /// @notice The `i`-th signer to anchor a checkpoint (0-based, in order of first anchoring).
    function signerAt(uint256 i) external view returns (address) {
        return _signers[i];
    }

    /// @notice Who signed a receipt, from its 32-byte body hash alone (the way any contract can
    ///         check a veritee receipt). Reverts on non-canonical signatures, never returns 0.
    function receiptSigner(bytes32 bodyHash, bytes calldata signature) external pure returns (address) {
        return VeriteeSignatures.recover(VeriteeSignatures.receiptDigest(bodyHash), signature);
    }

    /// @notice The EIP-712 digest of a receipt body hash (what the enclave signs).
    function receiptDigest(bytes32 bodyHash) external pure returns (bytes32) {
        return VeriteeSignatures.receiptDigest(bodyHash);
    }

    /// @notice The EIP-712 digest of a checkpoint: what the enclave signs, and its hash.
    function checkpointDigest(
        address signer,
        uint64 firstSeq,
        uint64 lastSeq,
        bytes32 root,
        bytes32 prev,
        bytes32 keysetHash,
        uint64 timeMs
    ) external pure returns (bytes32) {
        return VeriteeSignatures.checkpointDigest(signer, firstSeq, lastSeq, root, prev, keysetHash, timeMs);
    }

    /// @notice The EIP-712 domain separator: name "veritee", version "1", nothing else.
    function domainSeparator() external pure returns (bytes32) {
        return VeriteeSignatures.DOMAIN_SEPARATOR;
    }
}
