// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.24;

import {IZkmlInferenceBook} from "./interfaces/IZkmlInferenceBook.sol";
import {BatchVerifier, IZkmlModelRegistry, InferenceValues, ModelStatus} from "./interfaces/IZkmlModelRegistry.sol";

/// @title ZkmlInferenceBook
/// @notice Records inferences proven through the model registry. Anyone may attest: the proof, not the sender,
///         is trusted, and the registry builds the public instances from the values, so a record always means
///         "the registered model maps these inputs to these outputs".
contract ZkmlInferenceBook is IZkmlInferenceBook {
    /// @inheritdoc IZkmlInferenceBook
    IZkmlModelRegistry public immutable REGISTRY;

    /// @dev Model ids start at 1, so a zero model marks an id never recorded.
    struct Record {
        uint64 blockNumber;
        uint192 modelId;
    }

    mapping(bytes32 inferenceId => Record) private _records;

    /// @param registry The model registry to verify through.
    constructor(IZkmlModelRegistry registry) {
        REGISTRY = registry;
    }

    /// @inheritdoc IZkmlInferenceBook
    function attest(uint256 modelId, bytes calldata proof, InferenceValues calldata values)
        external
        returns (bytes32 id)
    {
        id = _inferenceId(modelId, values);
        if (_records[id].modelId != 0) {
            // Already proven; a retired model still refuses, as it would with a proof.
            if (REGISTRY.model(modelId).status != ModelStatus.Active) {
                revert IZkmlModelRegistry.ZkmlRegistryModelIsRetired(modelId);
            }
            return id;
        }
        REGISTRY.requireValidInference(modelId, proof, values);
        _record(id, modelId, 0);
    }

    /// @inheritdoc IZkmlInferenceBook
    function attestBatch(
        uint256 batchVerifierId,
        bytes calldata proof,
        uint256[12] calldata accumulator,
        InferenceValues[] calldata values
    ) external returns (bytes32[] memory ids) {
        if (values.length == 0) revert ZkmlInferenceBookEmptyBatch();
        // The registry checks the slot count, every slot model's status and the proof before anything is
        // recorded; the slots' model ids come from the batch verifier, never from the caller.
        REGISTRY.requireValidBatch(batchVerifierId, proof, accumulator, values);
        BatchVerifier memory batch = REGISTRY.batchVerifier(batchVerifierId);
        ids = new bytes32[](values.length);
        for (uint256 i = 0; i < values.length; ++i) {
            uint256 modelId = batch.modelIds[i];
            ids[i] = _inferenceId(modelId, values[i]);
            if (_records[ids[i]].modelId == 0) _record(ids[i], modelId, batchVerifierId);
        }
    }

    /// @inheritdoc IZkmlInferenceBook
    function inferenceId(uint256 modelId, InferenceValues calldata values) external pure returns (bytes32) {
        return _inferenceId(modelId, values);
    }

    /// @inheritdoc IZkmlInferenceBook
    function isAttested(uint256 modelId, InferenceValues calldata values) external view returns (bool attested) {
        if (_records[_inferenceId(modelId, values)].modelId == 0) return false;
        return REGISTRY.model(modelId).status == ModelStatus.Active;
    }

    /// @inheritdoc IZkmlInferenceBook
    function attestedAt(bytes32 id) external view returns (uint256 blockNumber) {
        return _records[id].blockNumber;
    }

    /// @inheritdoc IZkmlInferenceBook
    function attestedModel(bytes32 id) external view returns (uint256 modelId) {
        return _records[id].modelId;
    }

    function _inferenceId(uint256 modelId, InferenceValues calldata values) private pure returns (bytes32) {
        return keccak256(abi.encode(modelId, values.inputs, values.outputs));
    }

    function _record(bytes32 id, uint256 modelId, uint256 batchVerifierId) private {
        // Block numbers and model ids (a counter of registrations) stay far below these widths.
        // forge-lint: disable-next-line(unsafe-typecast)
        _records[id] = Record({blockNumber: uint64(block.number), modelId: uint192(modelId)});
        emit InferenceAttested(id, modelId, msg.sender, batchVerifierId);
    }
}
