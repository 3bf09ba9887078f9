// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.24;

import {IZkmlModelRegistry, InferenceValues} from "./IZkmlModelRegistry.sol";

/// @title IZkmlInferenceBook
/// @notice A public record of proven inferences: one proof (single or aggregated) is verified once, and every
///         contract that needs one of its inferences asks the book instead of verifying again.
/// @dev An inference is identified by `keccak256(abi.encode(modelId, inputs, outputs))` over the values the
///      proof makes public. For a hashed input or output section the value is its Poseidon hash (the one
///      public element); for private inputs the inputs are empty. A consumer that knows the preimage of a
///      hashed section recomputes the Poseidon hash off chain (`zkml-eth` prints it) and asks with it.
interface IZkmlInferenceBook {
    /// @notice An inference of `modelId` was proven and recorded; `batchVerifierId` is 0 for a single proof.
    event InferenceAttested(
        bytes32 indexed inferenceId, uint256 indexed modelId, address indexed attester, uint256 batchVerifierId
    );

    /// @notice A batch gave no inference.
    error ZkmlInferenceBookEmptyBatch();

    /// @notice The registry the book verifies through.
    /// @return The model registry.
    function REGISTRY() external view returns (IZkmlModelRegistry);

    /// @notice Verifies a single proof of `modelId` on these values through the registry (which packs the
    ///         instances itself) and records the inference. Recording again is a no-op that skips the proof
    ///         check: the first record stands.
    /// @param modelId The model (must be active).
    /// @param proof The proof bytes (`zkml-eth prove`'s `proof`).
    /// @param values The inference's public inputs and outputs (see `InferenceValues`).
    /// @return inferenceId The inference's id.
    function attest(uint256 modelId, bytes calldata proof, InferenceValues calldata values)
        external
        returns (bytes32 inferenceId);

    /// @notice Verifies an aggregated proof through the registry's batch verifier and records each slot's
    ///         inference. Inferences already recorded keep their first record.
    /// @param batchVerifierId The batch verifier (active, every slot's model active).
    /// @param proof The aggregated proof bytes.
    /// @param accumulator The 12 accumulator limbs, the aggregated proof's first instances.
    /// @param values Each slot's inputs and outputs, in slot order.
    /// @return inferenceIds The id of each slot's inference.
    function attestBatch(
        uint256 batchVerifierId,
        bytes calldata proof,
        uint256[12] calldata accumulator,
        InferenceValues[] calldata values
    ) external returns (bytes32[] memory inferenceIds);

    /// @notice The id of an inference: `keccak256(abi.encode(modelId, inputs, outputs))`.
    /// @param modelId The model.
    /// @param values Its public inputs and outputs.
    /// @return The inference id.
    function inferenceId(uint256 modelId, InferenceValues calldata values) external pure returns (bytes32);

    /// @notice Whether the inference was proven and its model is still active. A retired model's records are
    ///         not vouched for: models are retired when their circuit or weights must no longer be trusted.
    /// @param modelId The model.
    /// @param values Its public inputs and outputs.
    /// @return attested True when recorded and the model is active.
    function isAttested(uint256 modelId, InferenceValues calldata values) external view returns (bool attested);

    /// @notice The block in which an inference was first recorded, 0 if never; says nothing of the model's
    ///         status since.
    /// @param inferenceId The inference id.
    /// @return blockNumber The block number.
    function attestedAt(bytes32 inferenceId) external view returns (uint256 blockNumber);

    /// @notice The model an inference id was recorded for, 0 if never recorded.
    /// @param inferenceId The inference id.
    /// @return modelId The model id.
    function attestedModel(bytes32 inferenceId) external view returns (uint256 modelId);
}
