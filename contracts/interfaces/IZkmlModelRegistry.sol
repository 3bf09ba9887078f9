// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.24;

import {IZkmlVerifier} from "./IZkmlVerifier.sol";

/// @notice Life cycle of a model id. Ids are handed out once, in order, and a retired id is a tombstone:
///         it never becomes active again and is never given to another model.
enum ModelStatus {
    Unregistered,
    Active,
    Retired
}

/// @notice What a registrant supplies for a new model. Immutable once registered: consumers that bind to
///         a model id bind to exactly this verifier and commitment.
struct ModelConfig {
    /// @notice The proof verifier of the model's circuit.
    IZkmlVerifier verifier;
    /// @notice Poseidon commitment of the quantized weights, a BN254 scalar field element.
    bytes32 commitment;
    /// @notice Fixed-point scale of the inputs as a power-of-two exponent: real = integer / 2**inputScale.
    uint8 inputScale;
    /// @notice Fixed-point scale of the outputs as a power-of-two exponent: real = integer / 2**outputScale.
    uint8 outputScale;
    /// @notice Gas forwarded to the verifier on each verification; the rest of the call is protected from it.
    uint32 verifyGasLimit;
    /// @notice Where the proof's public instances must hold `commitment`, in strictly increasing order.
    ///         Empty when the weights are fixed (the verifying key pins them). With committed weights the
    ///         verifying key does not pin the weights, so without these indices a proof made with any
    ///         weights would pass: `[0]` for a single proof (`setup --weights committed`), and
    ///         `[12 + offset]` for every inner proof of an aggregated verifier (12 accumulator limbs first,
    ///         then each inner proof's instances at the `offset` its aggregated artifact records).
    uint16[] commitmentIndices;
}

/// @notice A registered model.
struct Model {
    IZkmlVerifier verifier;
    uint8 inputScale;
    uint8 outputScale;
    uint32 verifyGasLimit;
    ModelStatus status;
    bytes32 commitment;
    address owner;
    /// @notice The instance indices that must equal `commitment` (see `ModelConfig.commitmentIndices`).
    uint16[] commitmentIndices;
}

/// @title IZkmlModelRegistry
/// @notice Maps model ids to the verifier and commitment of a zkML model. Consumers (the AIGC-NFT, the
///         vault, any dApp) ask the registry to verify; they never hard-code a verifier.
interface IZkmlModelRegistry {
    /// @notice A model was registered under a fresh id.
    event ModelRegistered(
        uint256 indexed modelId,
        address indexed owner,
        IZkmlVerifier indexed verifier,
        bytes32 commitment,
        uint8 inputScale,
        uint8 outputScale,
        uint32 verifyGasLimit,
        uint16[] commitmentIndices
    );
    /// @notice A model was retired; its id is a tombstone from now on.
    event ModelRetired(uint256 indexed modelId, address indexed retiredBy);
    /// @notice A model's owner proposed a new owner, who must accept.
    event ModelOwnershipTransferStarted(
        uint256 indexed modelId, address indexed previousOwner, address indexed newOwner
    );
    /// @notice A model's ownership moved to a new owner.
    event ModelOwnershipTransferred(uint256 indexed modelId, address indexed previousOwner, address indexed newOwner);

    /// @notice No model was ever registered under this id.
    error ZkmlRegistryUnknownModel(uint256 modelId);
    /// @notice The model was retired and can no longer be used or changed.
    error ZkmlRegistryModelIsRetired(uint256 modelId);
    /// @notice The caller is not allowed to do this to the model.
    error ZkmlRegistryUnauthorized(uint256 modelId, address account);
    /// @notice The verifier address has no code (an empty account would accept every proof).
    error ZkmlRegistryInvalidVerifier(address verifier);
    /// @notice The commitment is not a BN254 scalar field element.
    error ZkmlRegistryInvalidCommitment(bytes32 commitment);
    /// @notice A fixed-point scale exponent is above the supported maximum.
    error ZkmlRegistryInvalidScale(uint8 scale);
    /// @notice The verifier gas limit is outside the supported range.
    error ZkmlRegistryInvalidGasLimit(uint256 verifyGasLimit);
    /// @notice More commitment indices than the registry checks per proof.
    error ZkmlRegistryTooManyCommitmentIndices(uint256 count, uint256 maxCount);
    /// @notice The commitment index at `position` is not above the one before it (indices must be unique and
    ///         strictly increasing).
    error ZkmlRegistryUnorderedCommitmentIndex(uint256 position, uint256 index);
    /// @notice The proof's instance at `index` is not the model's commitment: the proof is of other weights.
    error ZkmlRegistryCommitmentMismatch(uint256 modelId, uint256 index, uint256 found);
    /// @notice The proof has no instance at `index`, where the model's commitment must be.
    error ZkmlRegistryCommitmentMissing(uint256 modelId, uint256 index, uint256 numInstances);
    /// @notice The transaction had too little gas left to give the verifier its full gas limit, so a
    ///         failure could not be told apart from a rejection.
    error ZkmlRegistryInsufficientGas(uint256 modelId, uint256 verifyGasLimit);
    /// @notice The model's verifier rejected the proof.
    error ZkmlRegistryProofRejected(uint256 modelId);

    /// @notice Registers a model under a fresh id, owned by the caller.
    /// @param config The verifier, commitment, scales, verifier gas limit and commitment indices of the model.
    /// @return modelId The new model id, one above the previous one (ids start at 1).
    function registerModel(ModelConfig calldata config) external returns (uint256 modelId);

    /// @notice Retires an active model for good. Only its owner may do this.
    /// @param modelId The model to retire.
    function retireModel(uint256 modelId) external;

    /// @notice Starts moving a model's ownership; `newOwner` completes it with `acceptModelOwnership`.
    ///         Passing the zero address cancels a pending transfer.
    /// @param modelId The model whose ownership moves.
    /// @param newOwner The proposed owner.
    function transferModelOwnership(uint256 modelId, address newOwner) external;

    /// @notice Completes a pending ownership transfer. Only the proposed owner may call it.
    /// @param modelId The model whose ownership moves.
    function acceptModelOwnership(uint256 modelId) external;

    /// @notice Returns a registered model (active or retired).
    /// @param modelId The model id.
    /// @return The model's configuration, status and owner.
    function model(uint256 modelId) external view returns (Model memory);

    /// @notice The proposed owner of a model while a transfer is pending, else the zero address.
    /// @param modelId The model id.
    /// @return The pending owner.
    function pendingModelOwner(uint256 modelId) external view returns (address);

    /// @notice The number of ids handed out so far; the latest model id.
    /// @return The model count.
    function modelCount() external view returns (uint256);

    /// @notice Checks that the proof's instances hold the model's commitment at every commitment index, then
    ///         checks the proof with the model's verifier under the model's gas cap.
    /// @dev Reverts if the model is unknown or retired, or if too little gas was left to give the verifier
    ///      its full gas limit. A commitment mismatch or a missing commitment instance returns false without
    ///      calling the verifier (`requireValidProof` names it). A verifier that reverts, runs out of gas or
    ///      returns anything but an ABI `true` counts as a rejection.
    /// @param modelId The model the proof claims to be about.
    /// @param proof The proof bytes.
    /// @param instances The public instances.
    /// @return valid True when the instances hold the model's commitment and the model's verifier accepted
    ///         the proof.
    function isValidProof(uint256 modelId, bytes calldata proof, uint256[] calldata instances)
        external
        view
        returns (bool valid);

    /// @notice Like `isValidProof`, but reverts instead of returning false: with
    ///         `ZkmlRegistryCommitmentMismatch` or `ZkmlRegistryCommitmentMissing` when the instances do not
    ///         hold the model's commitment (checked before the verifier runs), else with
    ///         `ZkmlRegistryProofRejected` when the verifier rejects the proof.
    /// @param modelId The model the proof claims to be about.
    /// @param proof The proof bytes.
    /// @param instances The public instances.
    function requireValidProof(uint256 modelId, bytes calldata proof, uint256[] calldata instances) external view;
}
