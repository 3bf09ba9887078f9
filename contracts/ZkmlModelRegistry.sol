// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.24;

import {IZkmlVerifier} from "./interfaces/IZkmlVerifier.sol";
import {IZkmlModelRegistry, Model, ModelConfig, ModelStatus} from "./interfaces/IZkmlModelRegistry.sol";

/// @title ZkmlModelRegistry
/// @notice Permissionless registry of zkML models: anyone registers a model and owns its id. A model's
///         verifier and commitment never change; to ship a new circuit, register a new id and retire the old
///         one. Retired ids are tombstones, as in risc0-ethereum's verifier router.
contract ZkmlModelRegistry is IZkmlModelRegistry {
    /// @notice The BN254 scalar field modulus: commitments and public instances live below it.
    uint256 public constant SNARK_SCALAR_FIELD =
        21_888_242_871_839_275_222_246_405_745_257_275_088_548_364_400_416_034_343_698_204_186_575_808_495_617;

    /// @notice Largest fixed-point exponent. Quantized values must leave headroom below the 254-bit field for
    ///         products and sums inside the circuit; 2**64 is already far finer than any useful model scale.
    uint8 public constant MAX_SCALE = 64;

    /// @notice Smallest verifier gas limit: a halo2 KZG verification ends in a 2-pair BN254 pairing check
    ///         (~113k gas), so no valid proof can be verified with less.
    uint32 public constant MIN_VERIFY_GAS_LIMIT = 120_000;

    /// @notice Largest verifier gas limit: EIP-7825 caps a transaction at 2**24 gas, so a verifier that
    ///         needs more could never be called.
    uint32 public constant MAX_VERIFY_GAS_LIMIT = 16_777_216;

    /// @notice Most commitment indices per model: one per inner proof of an aggregated verifier, which
    ///         `zkml-eth aggregate` limits to 16 proofs. It also bounds the gas the check costs before the
    ///         verifier runs (16 `uint16` indices fill one storage word).
    uint256 public constant MAX_COMMITMENT_INDICES = 16;

    /// @dev Size of an ABI-encoded `bool` return value.
    uint256 private constant _BOOL_RETURN_SIZE = 32;

    uint256 private _modelCount;
    mapping(uint256 modelId => Model) private _models;
    mapping(uint256 modelId => address) private _pendingOwners;

    modifier onlyActiveModelOwner(uint256 modelId) {
        Model storage m = _activeModel(modelId);
        if (m.owner != msg.sender) revert ZkmlRegistryUnauthorized(modelId, msg.sender);
        _;
    }

    /// @inheritdoc IZkmlModelRegistry
    function registerModel(ModelConfig calldata config) external returns (uint256 modelId) {
        if (address(config.verifier).code.length == 0) revert ZkmlRegistryInvalidVerifier(address(config.verifier));
        if (uint256(config.commitment) >= SNARK_SCALAR_FIELD) revert ZkmlRegistryInvalidCommitment(config.commitment);
        if (config.inputScale > MAX_SCALE) revert ZkmlRegistryInvalidScale(config.inputScale);
        if (config.outputScale > MAX_SCALE) revert ZkmlRegistryInvalidScale(config.outputScale);
        if (config.verifyGasLimit < MIN_VERIFY_GAS_LIMIT || config.verifyGasLimit > MAX_VERIFY_GAS_LIMIT) {
            revert ZkmlRegistryInvalidGasLimit(config.verifyGasLimit);
        }
        _validateCommitmentIndices(config.commitmentIndices);

        // Ids are never handed out twice: the counter only grows and retired ids keep their entry.
        modelId = ++_modelCount;
        _models[modelId] = Model({
            verifier: config.verifier,
            inputScale: config.inputScale,
            outputScale: config.outputScale,
            verifyGasLimit: config.verifyGasLimit,
            status: ModelStatus.Active,
            commitment: config.commitment,
            owner: msg.sender,
            commitmentIndices: config.commitmentIndices
        });
        emit ModelRegistered(
            modelId,
            msg.sender,
            config.verifier,
            config.commitment,
            config.inputScale,
            config.outputScale,
            config.verifyGasLimit,
            config.commitmentIndices
        );
    }

    /// @inheritdoc IZkmlModelRegistry
    function retireModel(uint256 modelId) external onlyActiveModelOwner(modelId) {
        _models[modelId].status = ModelStatus.Retired;
        delete _pendingOwners[modelId];
        emit ModelRetired(modelId, msg.sender);
    }

    /// @inheritdoc IZkmlModelRegistry
    function transferModelOwnership(uint256 modelId, address newOwner) external onlyActiveModelOwner(modelId) {
        _pendingOwners[modelId] = newOwner;
        emit ModelOwnershipTransferStarted(modelId, msg.sender, newOwner);
    }

    /// @inheritdoc IZkmlModelRegistry
    function acceptModelOwnership(uint256 modelId) external {
        Model storage m = _activeModel(modelId);
        if (_pendingOwners[modelId] != msg.sender) revert ZkmlRegistryUnauthorized(modelId, msg.sender);
        address previousOwner = m.owner;
        m.owner = msg.sender;
        delete _pendingOwners[modelId];
        emit ModelOwnershipTransferred(modelId, previousOwner, msg.sender);
    }

    /// @inheritdoc IZkmlModelRegistry
    function model(uint256 modelId) external view returns (Model memory) {
        Model storage m = _models[modelId];
        if (m.status == ModelStatus.Unregistered) revert ZkmlRegistryUnknownModel(modelId);
        return m;
    }

    /// @inheritdoc IZkmlModelRegistry
    function pendingModelOwner(uint256 modelId) external view returns (address) {
        return _pendingOwners[modelId];
    }

    /// @inheritdoc IZkmlModelRegistry
    function modelCount() external view returns (uint256) {
        return _modelCount;
    }

    /// @inheritdoc IZkmlModelRegistry
    function isValidProof(uint256 modelId, bytes calldata proof, uint256[] calldata instances)
        external
        view
        returns (bool valid)
    {
        Model storage m = _activeModel(modelId);
        (bool mismatch,) = _commitmentMismatch(m, instances);
        return !mismatch && _callVerifier(modelId, m, proof, instances);
    }

    /// @inheritdoc IZkmlModelRegistry
    function requireValidProof(uint256 modelId, bytes calldata proof, uint256[] calldata instances) external view {
        Model storage m = _activeModel(modelId);
        (bool mismatch, uint256 index) = _commitmentMismatch(m, instances);
        if (mismatch) {
            if (index >= instances.length) revert ZkmlRegistryCommitmentMissing(modelId, index, instances.length);
            revert ZkmlRegistryCommitmentMismatch(modelId, index, instances[index]);
        }
        if (!_callVerifier(modelId, m, proof, instances)) revert ZkmlRegistryProofRejected(modelId);
    }

    function _activeModel(uint256 modelId) private view returns (Model storage m) {
        m = _models[modelId];
        if (m.status == ModelStatus.Unregistered) revert ZkmlRegistryUnknownModel(modelId);
        if (m.status == ModelStatus.Retired) revert ZkmlRegistryModelIsRetired(modelId);
    }

    /// @dev Indices must be strictly increasing (so unique) and few: `_commitmentMismatch` loops over them on
    ///      every verification, before the verifier's gas cap applies.
    function _validateCommitmentIndices(uint16[] calldata indices) private pure {
        if (indices.length > MAX_COMMITMENT_INDICES) {
            revert ZkmlRegistryTooManyCommitmentIndices(indices.length, MAX_COMMITMENT_INDICES);
        }
        for (uint256 i = 1; i < indices.length; ++i) {
            if (indices[i] <= indices[i - 1]) revert ZkmlRegistryUnorderedCommitmentIndex(i, indices[i]);
        }
    }

    /// @dev With committed weights the verifying key accepts proofs of any weights; only the commitment
    ///      instance says which. Returns the first commitment index whose instance is missing or is not the
    ///      model's commitment.
    function _commitmentMismatch(Model storage m, uint256[] calldata instances)
        private
        view
        returns (bool mismatch, uint256 index)
    {
        uint16[] memory indices = m.commitmentIndices;
        uint256 commitment = uint256(m.commitment);
        for (uint256 i = 0; i < indices.length; ++i) {
            index = indices[i];
            if (index >= instances.length || instances[index] != commitment) return (true, index);
        }
        return (false, 0);
    }

    /// @dev Calls the verifier with at most its gas limit and reads at most one word back, so neither a
    ///      gas-burning tampered proof nor a huge return payload can take the caller's gas.
    function _callVerifier(uint256 modelId, Model storage m, bytes calldata proof, uint256[] calldata instances)
        private
        view
        returns (bool valid)
    {
        address verifier = address(m.verifier);
        uint256 gasLimit = m.verifyGasLimit;
        bytes memory callData = abi.encodeCall(IZkmlVerifier.verifyProof, (proof, instances));

        bool success;
        uint256 returnSize;
        uint256 returnWord;
        assembly ("memory-safe") {
            success := staticcall(gasLimit, verifier, add(callData, 0x20), mload(callData), 0x00, 0x20)
            returnSize := returndatasize()
            returnWord := mload(0x00)
        }
        // EIP-150 forwards at most 63/64 of the remaining gas. If the call failed with less than 1/63 of the
        // limit left here, the verifier may have been given less than its limit: the caller starved it, and
        // reporting a rejection would let a submitter fail a valid proof on purpose.
        if (!success && gasleft() <= gasLimit / 63) revert ZkmlRegistryInsufficientGas(modelId, gasLimit);
        return success && returnSize == _BOOL_RETURN_SIZE && returnWord == 1;
    }
}
