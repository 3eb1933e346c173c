// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/// @title IEnclaveRegistry
/// @notice What the anchor needs from the registry: whether a signing key may anchor now.
interface IEnclaveRegistry {
    /// @notice True when `signer` is registered, not revoked, and its measurement is not revoked.
    function isActive(address signer) external view returns (bool);
}
