// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/// A signature is not 65 bytes (r ‖ s ‖ v).
error SignatureLength(uint256 length);
/// veritee signatures are even-R: v is always 27.
error SignatureV(uint8 v);
/// s is above n/2: the malleable twin of a canonical signature.
error SignatureHighS();
/// ecrecover found no key (r or s out of range, or not a point on the curve).
error SignatureInvalid();

/// @title VeriteeSignatures
/// @notice The EIP-712 digests that veritee enclaves sign, and canonical signature recovery.
/// @dev Mirrors `transcript/digest.py` and `transcript/keys.py`. The domain has a name and a
///      version only (no chainId, no verifyingContract): a receipt or checkpoint means the same
///      on every chain. See docs/spec/anchor-contracts.md.
library VeriteeSignatures {
    /// keccak256("EIP712Domain(string name,string version)")
    bytes32 internal constant DOMAIN_TYPEHASH = keccak256("EIP712Domain(string name,string version)");
    /// keccak256(DOMAIN_TYPEHASH ‖ keccak256("veritee") ‖ keccak256("1"))
    bytes32 internal constant DOMAIN_SEPARATOR =
        keccak256(abi.encode(DOMAIN_TYPEHASH, keccak256("veritee"), keccak256("1")));
    bytes32 internal constant RECEIPT_TYPEHASH = keccak256("Receipt(bytes32 bodyHash)");
    bytes32 internal constant CHECKPOINT_TYPEHASH = keccak256(
        "Checkpoint(address signer,uint64 firstSeq,uint64 lastSeq,bytes32 root,"
        "bytes32 prev,bytes32 keysetHash,uint64 timeMs)"
    );
    /// secp256k1 group order n, halved (rounded down): the largest low-s value.
    uint256 internal constant HALF_N = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0;

    /// keccak256(0x1901 ‖ DOMAIN_SEPARATOR ‖ structHash)
    function eip712(bytes32 structHash) internal pure returns (bytes32 digest) {
        bytes32 separator = DOMAIN_SEPARATOR;
        assembly ("memory-safe") {
            let p := mload(0x40)
            mstore(p, hex"1901")
            mstore(add(p, 0x02), separator)
            mstore(add(p, 0x22), structHash)
            digest := keccak256(p, 0x42)
        }
    }

    /// The digest a receipt signature covers, from the 32-byte body hash alone.
    function receiptDigest(bytes32 bodyHash) internal pure returns (bytes32) {
        return eip712(keccak256(abi.encode(RECEIPT_TYPEHASH, bodyHash)));
    }

    /// The digest a checkpoint signature covers; also the checkpoint's hash (the next `prev`).
    function checkpointDigest(
        address signer,
        uint64 firstSeq,
        uint64 lastSeq,
        bytes32 root,
        bytes32 prev,
        bytes32 keysetHash,
        uint64 timeMs
    ) internal pure returns (bytes32) {
        return eip712(
            keccak256(
                abi.encode(CHECKPOINT_TYPEHASH, signer, firstSeq, lastSeq, root, prev, keysetHash, timeMs)
            )
        );
    }

    /// @notice The address whose key signed `digest`, for canonical signatures only.
    /// @dev Reverts unless `signature` is 65 bytes r ‖ s ‖ v with v == 27 and s <= n/2, and
    ///      ecrecover yields a non-zero address. Never returns address(0).
    function recover(bytes32 digest, bytes calldata signature) internal pure returns (address signer) {
        if (signature.length != 65) revert SignatureLength(signature.length);
        bytes32 r;
        bytes32 s;
        uint8 v;
        assembly {
            r := calldataload(signature.offset)
            s := calldataload(add(signature.offset, 0x20))
            v := byte(0, calldataload(add(signature.offset, 0x40)))
        }
        if (v != 27) revert SignatureV(v);
        if (uint256(s) > HALF_N) revert SignatureHighS();
        signer = ecrecover(digest, v, r, s);
        if (signer == address(0)) revert SignatureInvalid();
    }
}
