// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.24;

import {IZkmlVerifier} from "./interfaces/IZkmlVerifier.sol";
import {
    BatchVerifier,
    BatchVerifierStatus,
    IZkmlModelRegistry,
    InferenceValues,
    InputVisibility,
    Model,
    ModelConfig,
    ModelStatus,
    OutputVisibility,
    PublicLayout,
    WeightVisibility
} from "./interfaces/IZkmlModelRegistry.sol";
import {ZkmlInstances} from "./libraries/ZkmlInstances.sol";

/// @title ZkmlModelRegistry
/// @notice Permissionless registry of zkML models: anyone registers a model and owns its id. A model's
///         verifier, commitment and public layout never change; to ship a new circuit, register a new id and
///         retire the old one. Retired ids are tombstones, as in risc0-ethereum's verifier router. Batch
///         verifiers (aggregated proofs over slots of registered models) verify only with the approval of
///         every slot model's owner and only while every slot's model is active.
contract ZkmlModelRegistry is IZkmlModelRegistry {
    /// @notice The BN254 scalar field modulus: commitments and public instances live below it.
    uint256 public constant SNARK_SCALAR_FIELD = ZkmlInstances.SNARK_SCALAR_FIELD;

    /// @notice Largest fixed-point exponent. Quantized values must leave headroom below the 254-bit field for
    ///         products and sums inside the circuit; 2**64 is already far finer than any useful model scale.
    uint8 public constant MAX_SCALE = 64;

    /// @notice Smallest verifier gas limit: a halo2 KZG verification ends in a 2-pair BN254 pairing check
    ///         (~113k gas), so no valid proof can be verified with less.
    uint32 public constant MIN_VERIFY_GAS_LIMIT = 120_000;

    /// @notice Largest verifier gas limit: EIP-7825 caps a transaction at 2**24 gas, so a verifier that
    ///         needs more could never be called.
    uint32 public constant MAX_VERIFY_GAS_LIMIT = 16_777_216;

    /// @notice Most public instances of one model's proof. The generated verifier costs about 160 bytes of
    ///         code per instance, so a verifier under EIP-170's 24,576 bytes has far fewer; the bound keeps
    ///         the packing loops that run before the verifier's gas cap short.
    uint256 public constant MAX_MODEL_INSTANCES = 256;

    /// @notice Most values in one model's public sections (public inputs plus public outputs). Packing costs
    ///         about 140 gas per value whatever the slot width, so this keeps packing one inference near
    ///         0.6M gas, far inside EIP-7825's 2**24 beside the verifier. Larger inputs belong in a hashed
    ///         section (one value); a 28x28x3 image (2,352 values) still fits.
    uint256 public constant MAX_PUBLIC_VALUES = 4096;

    /// @notice Most public values of all of a batch verifier's slots together, for the same reason.
    uint256 public constant MAX_BATCH_PUBLIC_VALUES = 4096;

    /// @notice Most slots of a batch verifier: `zkml-eth aggregate` aggregates at most 16 proofs.
    uint256 public constant MAX_BATCH_SLOTS = 16;

    /// @notice Bits of each accumulator limb of an aggregated proof.
    uint256 public constant ACCUMULATOR_LIMB_BITS = ZkmlInstances.ACCUMULATOR_LIMB_BITS;

    /// @dev Size of an ABI-encoded `bool` return value.
    uint256 private constant _BOOL_RETURN_SIZE = 32;

    /// @dev What the STATICCALL itself may cost before the verifier runs: a cold account access (2,600)
    ///      and memory expansion for the call data, with room to spare.
    uint256 private constant _CALL_OVERHEAD = 10_000;

    uint256 private _modelCount;
    mapping(uint256 modelId => Model) private _models;
    mapping(uint256 modelId => address) private _pendingOwners;

    uint256 private _batchVerifierCount;
    mapping(uint256 batchVerifierId => BatchVerifier) private _batchVerifiers;
    mapping(uint256 batchVerifierId => mapping(uint256 modelId => bool)) private _batchApprovals;

    modifier onlyActiveModelOwner(uint256 modelId) {
        Model storage m = _activeModel(modelId);
        if (m.owner != msg.sender) revert ZkmlRegistryUnauthorized(modelId, msg.sender);
        _;
    }

    // ------------------------------------------------------------------------------------------------ models

    /// @inheritdoc IZkmlModelRegistry
    function registerModel(ModelConfig calldata config) external returns (uint256 modelId) {
        _validateVerifier(config.verifier, config.verifyGasLimit);
        if (uint256(config.commitment) >= SNARK_SCALAR_FIELD) revert ZkmlRegistryInvalidCommitment(config.commitment);
        _validateLayout(config.publicLayout);

        // Ids are never handed out twice: the counter only grows and retired ids keep their entry.
        modelId = ++_modelCount;
        _models[modelId] = Model({
            verifier: config.verifier,
            verifyGasLimit: config.verifyGasLimit,
            status: ModelStatus.Active,
            owner: msg.sender,
            commitment: config.commitment,
            publicLayout: config.publicLayout
        });
        emit ModelRegistered(
            modelId, msg.sender, config.verifier, config.commitment, config.verifyGasLimit, config.publicLayout
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

    // ---------------------------------------------------------------------------------------- batch verifiers

    /// @inheritdoc IZkmlModelRegistry
    function registerBatchVerifier(IZkmlVerifier verifier, uint32 verifyGasLimit, uint256[] calldata modelIds)
        external
        returns (uint256 batchVerifierId)
    {
        _validateVerifier(verifier, verifyGasLimit);
        if (modelIds.length == 0 || modelIds.length > MAX_BATCH_SLOTS) {
            revert ZkmlRegistryInvalidSlotCount(modelIds.length, MAX_BATCH_SLOTS);
        }
        batchVerifierId = ++_batchVerifierCount;
        uint256[] memory ids = modelIds;
        // One approval per distinct model, not per slot: a model filling several slots is one owner's call.
        uint256 pending;
        uint256 values;
        for (uint256 i = 0; i < ids.length; ++i) {
            uint256 modelId = ids[i];
            Model storage m = _activeModel(modelId);
            values += _numPublicValues(m.publicLayout);
            if (_seenBefore(ids, i)) continue;
            if (m.owner == msg.sender) {
                _batchApprovals[batchVerifierId][modelId] = true;
            } else {
                ++pending;
            }
        }
        if (values > MAX_BATCH_PUBLIC_VALUES) revert ZkmlRegistryTooManyPublicValues(values, MAX_BATCH_PUBLIC_VALUES);
        BatchVerifier storage b = _batchVerifiers[batchVerifierId];
        b.verifier = verifier;
        b.verifyGasLimit = verifyGasLimit;
        b.registrant = msg.sender;
        b.modelIds = modelIds;
        // At most MAX_BATCH_SLOTS distinct models: the cast is exact.
        // forge-lint: disable-next-line(unsafe-typecast)
        b.pendingApprovals = uint16(pending);
        b.status = pending == 0 ? BatchVerifierStatus.Active : BatchVerifierStatus.Pending;

        emit BatchVerifierRegistered(batchVerifierId, msg.sender, verifier, verifyGasLimit, modelIds, pending);
        for (uint256 i = 0; i < ids.length; ++i) {
            if (!_seenBefore(ids, i) && _batchApprovals[batchVerifierId][ids[i]]) {
                emit BatchVerifierApproved(batchVerifierId, ids[i], msg.sender);
            }
        }
        if (pending == 0) emit BatchVerifierActivated(batchVerifierId);
    }

    /// @inheritdoc IZkmlModelRegistry
    function approveBatchVerifier(uint256 batchVerifierId) external {
        BatchVerifier storage b = _knownBatchVerifier(batchVerifierId);
        if (b.status != BatchVerifierStatus.Pending) {
            revert ZkmlRegistryBatchVerifierNotActive(batchVerifierId, b.status);
        }
        uint256[] memory modelIds = b.modelIds;
        uint256 approved;
        for (uint256 i = 0; i < modelIds.length; ++i) {
            uint256 modelId = modelIds[i];
            if (_batchApprovals[batchVerifierId][modelId]) continue;
            // Approving for a retired model would be pointless: the batch verifier can never verify.
            Model storage m = _activeModel(modelId);
            if (m.owner != msg.sender) continue;
            _batchApprovals[batchVerifierId][modelId] = true;
            ++approved;
            emit BatchVerifierApproved(batchVerifierId, modelId, msg.sender);
        }
        if (approved == 0) revert ZkmlRegistryBatchUnauthorized(batchVerifierId, msg.sender);
        // `approved` counts distinct models still pending, so it never exceeds `pendingApprovals`.
        // forge-lint: disable-next-line(unsafe-typecast)
        b.pendingApprovals -= uint16(approved);
        if (b.pendingApprovals == 0) {
            b.status = BatchVerifierStatus.Active;
            emit BatchVerifierActivated(batchVerifierId);
        }
    }

    /// @inheritdoc IZkmlModelRegistry
    function retireBatchVerifier(uint256 batchVerifierId) external {
        BatchVerifier storage b = _knownBatchVerifier(batchVerifierId);
        if (b.status == BatchVerifierStatus.Retired) {
            revert ZkmlRegistryBatchVerifierNotActive(batchVerifierId, b.status);
        }
        if (msg.sender != b.registrant && !_ownsASlot(b.modelIds, msg.sender)) {
            revert ZkmlRegistryBatchUnauthorized(batchVerifierId, msg.sender);
        }
        b.status = BatchVerifierStatus.Retired;
        emit BatchVerifierRetired(batchVerifierId, msg.sender);
    }

    // ------------------------------------------------------------------------------------------------- views

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
    function batchVerifier(uint256 batchVerifierId) external view returns (BatchVerifier memory) {
        return _knownBatchVerifier(batchVerifierId);
    }

    /// @inheritdoc IZkmlModelRegistry
    function batchVerifierApproved(uint256 batchVerifierId, uint256 modelId) external view returns (bool approved) {
        return _batchApprovals[batchVerifierId][modelId];
    }

    /// @inheritdoc IZkmlModelRegistry
    function batchVerifierUsable(uint256 batchVerifierId) external view returns (bool usable) {
        BatchVerifier storage b = _batchVerifiers[batchVerifierId];
        if (b.status != BatchVerifierStatus.Active) return false;
        uint256[] memory modelIds = b.modelIds;
        for (uint256 i = 0; i < modelIds.length; ++i) {
            if (_models[modelIds[i]].status != ModelStatus.Active) return false;
        }
        return true;
    }

    /// @inheritdoc IZkmlModelRegistry
    function batchVerifierCount() external view returns (uint256) {
        return _batchVerifierCount;
    }

    /// @inheritdoc IZkmlModelRegistry
    function numInstances(uint256 modelId) external view returns (uint256) {
        Model storage m = _models[modelId];
        if (m.status == ModelStatus.Unregistered) revert ZkmlRegistryUnknownModel(modelId);
        return _numInstances(m.publicLayout);
    }

    /// @inheritdoc IZkmlModelRegistry
    function inferenceInstances(uint256 modelId, InferenceValues calldata values)
        external
        view
        returns (uint256[] memory instances)
    {
        Model storage m = _models[modelId];
        if (m.status == ModelStatus.Unregistered) revert ZkmlRegistryUnknownModel(modelId);
        instances = new uint256[](_numInstances(m.publicLayout));
        _packInference(modelId, m, values, instances, 0);
    }

    // ------------------------------------------------------------------------------------------ verification

    /// @inheritdoc IZkmlModelRegistry
    function isValidProof(uint256 modelId, bytes calldata proof, uint256[] calldata instances)
        external
        view
        returns (bool valid)
    {
        Model storage m = _activeModel(modelId);
        if (_commitmentMismatch(m, instances)) return false;
        return _callVerifier(m.verifier, m.verifyGasLimit, proof, instances);
    }

    /// @inheritdoc IZkmlModelRegistry
    function requireValidProof(uint256 modelId, bytes calldata proof, uint256[] calldata instances) external view {
        Model storage m = _activeModel(modelId);
        if (_commitmentMismatch(m, instances)) {
            if (instances.length == 0) revert ZkmlRegistryCommitmentMissing(modelId);
            revert ZkmlRegistryCommitmentMismatch(modelId, instances[0]);
        }
        if (!_callVerifier(m.verifier, m.verifyGasLimit, proof, instances)) revert ZkmlRegistryProofRejected(modelId);
    }

    /// @inheritdoc IZkmlModelRegistry
    function requireValidInference(uint256 modelId, bytes calldata proof, InferenceValues calldata values)
        external
        view
    {
        Model storage m = _activeModel(modelId);
        uint256[] memory words = new uint256[](_numInstances(m.publicLayout));
        _packInference(modelId, m, values, words, 0);
        if (!_callVerifier(m.verifier, m.verifyGasLimit, proof, words)) revert ZkmlRegistryProofRejected(modelId);
    }

    /// @inheritdoc IZkmlModelRegistry
    function requireValidBatch(
        uint256 batchVerifierId,
        bytes calldata proof,
        uint256[12] calldata accumulator,
        InferenceValues[] calldata values
    ) external view {
        BatchVerifier storage b = _knownBatchVerifier(batchVerifierId);
        if (b.status != BatchVerifierStatus.Active) {
            revert ZkmlRegistryBatchVerifierNotActive(batchVerifierId, b.status);
        }
        uint256[] memory modelIds = b.modelIds;
        if (values.length != modelIds.length) {
            revert ZkmlRegistryWrongSlotCount(batchVerifierId, values.length, modelIds.length);
        }

        uint256 total = ZkmlInstances.ACCUMULATOR_LIMBS;
        for (uint256 i = 0; i < modelIds.length; ++i) {
            // A retired slot model disables the batch verifier: its circuit may be why it was retired.
            total += _numInstances(_activeModel(modelIds[i]).publicLayout);
        }
        uint256[] memory words = new uint256[](total);
        for (uint256 i = 0; i < ZkmlInstances.ACCUMULATOR_LIMBS; ++i) {
            // Limbs wider than 88 bits would give one accumulator point several encodings.
            if (accumulator[i] >> ACCUMULATOR_LIMB_BITS != 0) {
                revert ZkmlRegistryInvalidAccumulatorLimb(i, accumulator[i]);
            }
            words[i] = accumulator[i];
        }
        uint256 offset = ZkmlInstances.ACCUMULATOR_LIMBS;
        for (uint256 i = 0; i < modelIds.length; ++i) {
            offset = _packInference(modelIds[i], _models[modelIds[i]], values[i], words, offset);
        }
        if (!_callVerifier(b.verifier, b.verifyGasLimit, proof, words)) {
            revert ZkmlRegistryBatchProofRejected(batchVerifierId);
        }
    }

    // --------------------------------------------------------------------------------------------- internals

    function _activeModel(uint256 modelId) private view returns (Model storage m) {
        m = _models[modelId];
        if (m.status == ModelStatus.Unregistered) revert ZkmlRegistryUnknownModel(modelId);
        if (m.status == ModelStatus.Retired) revert ZkmlRegistryModelIsRetired(modelId);
    }

    function _knownBatchVerifier(uint256 batchVerifierId) private view returns (BatchVerifier storage b) {
        b = _batchVerifiers[batchVerifierId];
        if (b.status == BatchVerifierStatus.Unregistered) revert ZkmlRegistryUnknownBatchVerifier(batchVerifierId);
    }

    function _validateVerifier(IZkmlVerifier verifier, uint32 verifyGasLimit) private view {
        if (address(verifier).code.length == 0) revert ZkmlRegistryInvalidVerifier(address(verifier));
        if (verifyGasLimit < MIN_VERIFY_GAS_LIMIT || verifyGasLimit > MAX_VERIFY_GAS_LIMIT) {
            revert ZkmlRegistryInvalidGasLimit(verifyGasLimit);
        }
    }

    /// @dev A layout the circuit could have written: scales in range, every public or hashed section with a
    ///      slot width that packs, outputs present, and few enough instances to pack before the gas cap.
    function _validateLayout(PublicLayout calldata publicLayout) private pure {
        if (publicLayout.inputScale > MAX_SCALE) revert ZkmlRegistryInvalidScale(publicLayout.inputScale);
        if (publicLayout.outputScale > MAX_SCALE) revert ZkmlRegistryInvalidScale(publicLayout.outputScale);
        if (publicLayout.input != InputVisibility.Private) {
            _validateSection(publicLayout.inputWidth, publicLayout.inputCount);
        }
        _validateSection(publicLayout.outputWidth, publicLayout.outputCount);
        uint256 count = _numInstances(publicLayout);
        if (count > MAX_MODEL_INSTANCES) revert ZkmlRegistryTooManyInstances(count, MAX_MODEL_INSTANCES);
        uint256 values = _numPublicValues(publicLayout);
        if (values > MAX_PUBLIC_VALUES) revert ZkmlRegistryTooManyPublicValues(values, MAX_PUBLIC_VALUES);
    }

    /// @dev The values that are packed one by one: those of the public (not hashed, not private) sections.
    function _numPublicValues(PublicLayout memory publicLayout) private pure returns (uint256 values) {
        if (publicLayout.input == InputVisibility.Public) values += publicLayout.inputCount;
        if (publicLayout.output == OutputVisibility.Public) values += publicLayout.outputCount;
    }

    function _validateSection(uint256 width, uint256 count) private pure {
        if (width == 0 || width > ZkmlInstances.PACKED_BITS || count == 0) {
            revert ZkmlRegistryInvalidLayout(width, count);
        }
    }

    /// @dev The instance count of `crates/zkml-circuit/src/public.rs`'s `PublicLayout`.
    function _numInstances(PublicLayout memory publicLayout) private pure returns (uint256 count) {
        if (publicLayout.weights == WeightVisibility.Committed) ++count;
        if (publicLayout.input == InputVisibility.Public) {
            count += ZkmlInstances.packedElements(publicLayout.inputCount, publicLayout.inputWidth);
        } else if (publicLayout.input == InputVisibility.Hashed) {
            ++count;
        }
        if (publicLayout.output == OutputVisibility.Public) {
            count += ZkmlInstances.packedElements(publicLayout.outputCount, publicLayout.outputWidth);
        } else {
            ++count;
        }
    }

    /// @dev Writes one inference's instances into `words` from `offset` on and returns the index after them.
    function _packInference(
        uint256 modelId,
        Model storage m,
        InferenceValues calldata values,
        uint256[] memory words,
        uint256 offset
    ) private view returns (uint256) {
        PublicLayout memory publicLayout = m.publicLayout;
        if (publicLayout.weights == WeightVisibility.Committed) words[offset++] = uint256(m.commitment);

        if (publicLayout.input == InputVisibility.Public) {
            _checkCount(modelId, false, values.inputs.length, publicLayout.inputCount);
            offset = ZkmlInstances.packInto(words, offset, values.inputs, publicLayout.inputWidth);
        } else if (publicLayout.input == InputVisibility.Hashed) {
            _checkCount(modelId, false, values.inputs.length, 1);
            words[offset++] = _hashWord(modelId, values.inputs[0]);
        } else {
            _checkCount(modelId, false, values.inputs.length, 0);
        }

        if (publicLayout.output == OutputVisibility.Public) {
            _checkCount(modelId, true, values.outputs.length, publicLayout.outputCount);
            offset = ZkmlInstances.packInto(words, offset, values.outputs, publicLayout.outputWidth);
        } else {
            _checkCount(modelId, true, values.outputs.length, 1);
            words[offset++] = _hashWord(modelId, values.outputs[0]);
        }
        return offset;
    }

    function _checkCount(uint256 modelId, bool outputs, uint256 given, uint256 expected) private pure {
        if (given != expected) revert ZkmlRegistryWrongValueCount(modelId, outputs, given, expected);
    }

    /// @dev A hashed section's one element: a Poseidon hash, so a canonical field element.
    function _hashWord(uint256 modelId, int256 value) private pure returns (uint256) {
        // Checked non-negative first, so the cast is exact.
        // forge-lint: disable-next-line(unsafe-typecast)
        if (value < 0 || uint256(value) >= SNARK_SCALAR_FIELD) revert ZkmlRegistryInvalidHash(modelId, value);
        // forge-lint: disable-next-line(unsafe-typecast)
        return uint256(value);
    }

    /// @dev With committed weights the verifying key accepts proofs of any weights; only instance 0 says which.
    function _commitmentMismatch(Model storage m, uint256[] calldata instances) private view returns (bool) {
        if (m.publicLayout.weights != WeightVisibility.Committed) return false;
        return instances.length == 0 || instances[0] != uint256(m.commitment);
    }

    /// @dev True when `modelIds[i]` already appeared before position `i`.
    function _seenBefore(uint256[] memory modelIds, uint256 i) private pure returns (bool) {
        for (uint256 j = 0; j < i; ++j) {
            if (modelIds[j] == modelIds[i]) return true;
        }
        return false;
    }

    function _ownsASlot(uint256[] memory modelIds, address account) private view returns (bool) {
        for (uint256 i = 0; i < modelIds.length; ++i) {
            if (_models[modelIds[i]].owner == account) return true;
        }
        return false;
    }

    /// @dev Calls the verifier with at most its gas limit and reads at most one word back, so neither a
    ///      gas-burning tampered proof nor a huge return payload can take the caller's gas.
    function _callVerifier(IZkmlVerifier verifier, uint256 gasLimit, bytes calldata proof, uint256[] memory words)
        private
        view
        returns (bool valid)
    {
        bytes memory callData = abi.encodeCall(IZkmlVerifier.verifyProof, (proof, words));

        // EIP-150 forwards at most 63/64 of the remaining gas. A verifier given less than its limit may
        // run out and report a valid proof as invalid, which would let a submitter fail a valid proof on
        // purpose; an adapter that catches its inner verifier's out-of-gas turns that into a plain `false`,
        // so the only sound check is before the call: the verifier always gets its whole limit.
        if (gasleft() < gasLimit + gasLimit / 63 + _CALL_OVERHEAD) {
            revert ZkmlRegistryInsufficientGas(address(verifier), gasLimit);
        }

        bool success;
        uint256 returnSize;
        uint256 returnWord;
        assembly ("memory-safe") {
            success := staticcall(gasLimit, verifier, add(callData, 0x20), mload(callData), 0x00, 0x20)
            returnSize := returndatasize()
            returnWord := mload(0x00)
        }
        return success && returnSize == _BOOL_RETURN_SIZE && returnWord == 1;
    }
}
