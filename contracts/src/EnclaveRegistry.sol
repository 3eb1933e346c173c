// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {IEnclaveRegistry} from "./IEnclaveRegistry.sol";

/// @title EnclaveRegistry
/// @notice The enclave signing keys whose checkpoints the anchor accepts.
/// @dev The owner (any address: an EOA or a multisig) registers a key after verifying the
///      enclave's attestation evidence off chain. A key is registered once, with the enclave's
///      measurement id and the hash of the evidence that was verified. Revoking a key or a
///      whole measurement is final. A revoked measurement disables every key registered with
///      it, including keys registered later, which the registry refuses outright.
///
///      `measurement` is a 32-byte measurement id, not a raw register: raw measurements are 48
///      bytes (SNP, TDX MRTD, Nitro PCRs) or several registers, so veritee hashes them as
///      `verifier.anchor.measurement.measurement_id` specifies (docs/spec/anchor-contracts.md).
contract EnclaveRegistry is IEnclaveRegistry {
    /// Storage: three slots per key. `isActive` reads slot 2 first, then slot 0, then the
    /// measurement's revocation slot (three SLOADs when active, one when it is not).
    struct Enclave {
        bytes32 measurement; // slot 0
        bytes32 evidenceHash; // slot 1
        uint64 registeredAt; // slot 2: block number of registration (never 0 once registered)
        uint64 revokedAt; //           block number of revocation, 0 while not revoked
    }

    address public owner;
    address public pendingOwner;
    mapping(address signer => Enclave) private _enclaves;
    /// Block number at which a measurement was revoked; 0 while it is not.
    mapping(bytes32 measurement => uint64 revokedAt) public measurementRevokedAt;

    event OwnershipTransferStarted(address indexed previousOwner, address indexed newOwner);
    event OwnershipTransferred(address indexed previousOwner, address indexed newOwner);
    event EnclaveRegistered(address indexed signer, bytes32 indexed measurement, bytes32 evidenceHash);
    event EnclaveRevoked(address indexed signer, bytes32 indexed measurement);
    event MeasurementRevoked(bytes32 indexed measurement);

    error NotOwner(address caller);
    error NotPendingOwner(address caller);
    error ZeroAddress();
    error ZeroValue();
    error AlreadyRegistered(address signer);
    error NotRegistered(address signer);
    error AlreadyRevoked(address signer);
    error MeasurementIsRevoked(bytes32 measurement);

    modifier onlyOwner() {
        if (msg.sender != owner) revert NotOwner(msg.sender);
        _;
    }

    constructor(address initialOwner) {
        if (initialOwner == address(0)) revert ZeroAddress();
        owner = initialOwner;
        emit OwnershipTransferred(address(0), initialOwner);
    }

    /// @notice Start handing the registry to `newOwner`, who must call `acceptOwnership`.
    ///         Passing address(0) cancels a pending transfer.
    function transferOwnership(address newOwner) external onlyOwner {
        pendingOwner = newOwner;
        emit OwnershipTransferStarted(msg.sender, newOwner);
    }

    /// @notice Complete a transfer started by `transferOwnership`.
    function acceptOwnership() external {
        if (msg.sender != pendingOwner) revert NotPendingOwner(msg.sender);
        emit OwnershipTransferred(owner, msg.sender);
        owner = msg.sender;
        pendingOwner = address(0);
    }

    /// @notice Register an enclave signing key whose evidence verified off chain.
    /// @param signer the enclave's signing address (from its keyset, bound into the evidence)
    /// @param measurement the measurement id of the image the evidence shows
    /// @param evidenceHash sha256 of the evidence document that was verified
    function register(address signer, bytes32 measurement, bytes32 evidenceHash) external onlyOwner {
        if (signer == address(0)) revert ZeroAddress();
        if (measurement == 0 || evidenceHash == 0) revert ZeroValue();
        Enclave storage e = _enclaves[signer];
        if (e.registeredAt != 0) revert AlreadyRegistered(signer);
        if (measurementRevokedAt[measurement] != 0) revert MeasurementIsRevoked(measurement);
        e.measurement = measurement;
        e.evidenceHash = evidenceHash;
        e.registeredAt = uint64(block.number);
        emit EnclaveRegistered(signer, measurement, evidenceHash);
    }

    /// @notice Revoke one enclave key, for good.
    function revokeEnclave(address signer) external onlyOwner {
        Enclave storage e = _enclaves[signer];
        if (e.registeredAt == 0) revert NotRegistered(signer);
        if (e.revokedAt != 0) revert AlreadyRevoked(signer);
        e.revokedAt = uint64(block.number);
        emit EnclaveRevoked(signer, e.measurement);
    }

    /// @notice Revoke a measurement, for good: every key registered with it stops being active
    ///         and no key can be registered with it again. It need not be in use yet.
    function revokeMeasurement(bytes32 measurement) external onlyOwner {
        if (measurement == 0) revert ZeroValue();
        if (measurementRevokedAt[measurement] != 0) revert MeasurementIsRevoked(measurement);
        measurementRevokedAt[measurement] = uint64(block.number);
        emit MeasurementRevoked(measurement);
    }

    /// @inheritdoc IEnclaveRegistry
    function isActive(address signer) external view returns (bool) {
        Enclave storage e = _enclaves[signer];
        return e.registeredAt != 0 && e.revokedAt == 0 && measurementRevokedAt[e.measurement] == 0;
    }

    /// @notice Everything recorded about `signer`; all zero when it was never registered.
    function enclave(address signer)
        external
        view
        returns (bytes32 measurement, bytes32 evidenceHash, uint64 registeredAt, uint64 revokedAt)
    {
        Enclave storage e = _enclaves[signer];
        return (e.measurement, e.evidenceHash, e.registeredAt, e.revokedAt);
    }
}
