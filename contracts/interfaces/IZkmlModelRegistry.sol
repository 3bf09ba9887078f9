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

/// @notice How a model's weights enter its circuit (`setup --weights`).
enum WeightVisibility {
    /// @notice Constants of the verifying key: the verifier pins the model.
    Fixed,
    /// @notice A private witness whose Poseidon commitment is public instance 0: the registry checks it
    ///         against the model's `commitment`, since the verifying key accepts proofs of any weights.
    Committed
}

/// @notice What a proof makes public about a model's inputs (`setup --input`).
enum InputVisibility {
    /// @notice The quantized inputs, packed.
    Public,
    /// @notice One element: the Poseidon hash of the packed inputs.
    Hashed,
    /// @notice Nothing.
    Private
}

/// @notice What a proof makes public about a model's outputs (`setup --output`).
enum OutputVisibility {
    /// @notice The quantized outputs, packed.
    Public,
    /// @notice One element: the Poseidon hash of the packed outputs.
    Hashed
}

/// @notice The public instances of a model's circuit, as `zkml-circuit`'s `PublicLayout` writes them: the
///         commitment (committed weights only), then the input section, then the output section. A public
///         section of `n` values of slot width `W` fills `ceil(n / floor(252 / W))` elements
///         (`ZkmlInstances.pack`); a hashed section is one element; a private one is empty. Contracts pack
///         a model's instances from its values with this, so no caller hands a verifier an instance word.
struct PublicLayout {
    WeightVisibility weights;
    InputVisibility input;
    OutputVisibility output;
    /// @notice Fixed-point scale of the inputs as a power-of-two exponent: real = integer / 2**inputScale.
    uint8 inputScale;
    /// @notice Fixed-point scale of the outputs: real = integer / 2**outputScale.
    uint8 outputScale;
    /// @notice Slot width in bits of a packed input value (the layout's input `width`).
    uint8 inputWidth;
    /// @notice Slot width in bits of a packed output value.
    uint8 outputWidth;
    /// @notice Number of input values (the layout's input `values`), also when hashed or private.
    uint16 inputCount;
    /// @notice Number of output values.
    uint16 outputCount;
}

/// @notice What a registrant supplies for a new model. Immutable once registered: consumers that bind to
///         a model id bind to exactly this verifier, commitment and public layout.
struct ModelConfig {
    /// @notice The proof verifier of the model's circuit.
    IZkmlVerifier verifier;
    /// @notice Poseidon commitment of the quantized weights, a BN254 scalar field element. With committed
    ///         weights every proof must carry it as instance 0; with fixed weights it identifies the model.
    bytes32 commitment;
    /// @notice Gas forwarded to the verifier on each verification; the rest of the call is protected from it.
    uint32 verifyGasLimit;
    /// @notice The circuit's public instances.
    PublicLayout publicLayout;
}

/// @notice A registered model.
struct Model {
    IZkmlVerifier verifier;
    uint32 verifyGasLimit;
    ModelStatus status;
    address owner;
    bytes32 commitment;
    PublicLayout publicLayout;
}

/// @notice Life cycle of a batch verifier: registered, approved by the owner of every slot's model, retired.
enum BatchVerifierStatus {
    Unregistered,
    Pending,
    Active,
    Retired
}

/// @notice A verifier of aggregated proofs whose slot `i` is a proof of model `modelIds[i]`.
struct BatchVerifier {
    IZkmlVerifier verifier;
    uint32 verifyGasLimit;
    BatchVerifierStatus status;
    address registrant;
    /// @notice Slot owners' approvals still missing; the verifier becomes active when it reaches zero.
    uint16 pendingApprovals;
    /// @notice The model of each slot, in the aggregated proof's order (a model may fill several slots).
    uint256[] modelIds;
}

/// @notice The values of one inference, as contracts give them to the registry: for a public section the
///         quantized values, for a hashed section its one Poseidon hash (as a non-negative integer), for
///         private inputs nothing.
struct InferenceValues {
    int256[] inputs;
    int256[] outputs;
}

/// @title IZkmlModelRegistry
/// @notice Maps model ids to the verifier, commitment and public layout of a zkML model, and batch
///         verifier ids to aggregated verifiers over registered models. Consumers (the inference book, the
///         AIGC-NFT, the vault, any dApp) ask the registry to verify; they never hard-code a verifier.
interface IZkmlModelRegistry {
    /// @notice A model was registered under a fresh id.
    event ModelRegistered(
        uint256 indexed modelId,
        address indexed owner,
        IZkmlVerifier indexed verifier,
        bytes32 commitment,
        uint32 verifyGasLimit,
        PublicLayout publicLayout
    );
    /// @notice A model was retired; its id is a tombstone from now on, and every batch verifier with a slot
    ///         of it stops verifying.
    event ModelRetired(uint256 indexed modelId, address indexed retiredBy);
    /// @notice A model's owner proposed a new owner, who must accept.
    event ModelOwnershipTransferStarted(
        uint256 indexed modelId, address indexed previousOwner, address indexed newOwner
    );
    /// @notice A model's ownership moved to a new owner.
    event ModelOwnershipTransferred(uint256 indexed modelId, address indexed previousOwner, address indexed newOwner);
    /// @notice A batch verifier was registered for the given slot models; it waits for `pendingApprovals`
    ///         model owners.
    event BatchVerifierRegistered(
        uint256 indexed batchVerifierId,
        address indexed registrant,
        IZkmlVerifier indexed verifier,
        uint32 verifyGasLimit,
        uint256[] modelIds,
        uint256 pendingApprovals
    );
    /// @notice The owner of `modelId` approved the batch verifier for every slot of that model.
    event BatchVerifierApproved(uint256 indexed batchVerifierId, uint256 indexed modelId, address indexed owner);
    /// @notice Every slot's model owner has approved: the batch verifier verifies from now on.
    event BatchVerifierActivated(uint256 indexed batchVerifierId);
    /// @notice A batch verifier was retired for good.
    event BatchVerifierRetired(uint256 indexed batchVerifierId, address indexed retiredBy);

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
    /// @notice A slot width is zero or wider than a packed element, or a section has no values.
    error ZkmlRegistryInvalidLayout(uint256 width, uint256 count);
    /// @notice The layout has more public instances than the registry packs per proof.
    error ZkmlRegistryTooManyInstances(uint256 numInstances, uint256 maxInstances);
    /// @notice The layout (or a batch's slots together) has more public values than the registry packs in
    ///         one transaction; a large input belongs in a hashed section.
    error ZkmlRegistryTooManyPublicValues(uint256 numValues, uint256 maxValues);
    /// @notice The verifier gas limit is outside the supported range.
    error ZkmlRegistryInvalidGasLimit(uint256 verifyGasLimit);
    /// @notice The proof's instance 0 is not the model's commitment: the proof is of other weights.
    error ZkmlRegistryCommitmentMismatch(uint256 modelId, uint256 found);
    /// @notice The proof has no instances, so no commitment where the model's must be.
    error ZkmlRegistryCommitmentMissing(uint256 modelId);
    /// @notice An inference gives the wrong number of input (`outputs == false`) or output values.
    error ZkmlRegistryWrongValueCount(uint256 modelId, bool outputs, uint256 given, uint256 expected);
    /// @notice A hashed section's value is not a BN254 scalar field element.
    error ZkmlRegistryInvalidHash(uint256 modelId, int256 value);
    /// @notice The transaction had too little gas left to give the verifier its full gas limit, so a
    ///         failure could not be told apart from a rejection.
    error ZkmlRegistryInsufficientGas(address verifier, uint256 verifyGasLimit);
    /// @notice The model's verifier rejected the proof.
    error ZkmlRegistryProofRejected(uint256 modelId);
    /// @notice A batch verifier needs between one and `maxSlots` slots.
    error ZkmlRegistryInvalidSlotCount(uint256 slots, uint256 maxSlots);
    /// @notice An aggregated proof's values are given for the wrong number of slots.
    error ZkmlRegistryWrongSlotCount(uint256 batchVerifierId, uint256 given, uint256 expected);
    /// @notice No batch verifier was ever registered under this id.
    error ZkmlRegistryUnknownBatchVerifier(uint256 batchVerifierId);
    /// @notice The batch verifier is waiting for approvals, or retired.
    error ZkmlRegistryBatchVerifierNotActive(uint256 batchVerifierId, BatchVerifierStatus status);
    /// @notice The caller owns no slot of the batch verifier that still needs an approval, and did not
    ///         register it.
    error ZkmlRegistryBatchUnauthorized(uint256 batchVerifierId, address account);
    /// @notice An accumulator limb is not below 2**88.
    error ZkmlRegistryInvalidAccumulatorLimb(uint256 index, uint256 limb);
    /// @notice The batch verifier rejected the aggregated proof.
    error ZkmlRegistryBatchProofRejected(uint256 batchVerifierId);

    /// @notice Registers a model under a fresh id, owned by the caller.
    /// @param config The verifier, commitment, verifier gas limit and public layout of the model.
    /// @return modelId The new model id, one above the previous one (ids start at 1).
    function registerModel(ModelConfig calldata config) external returns (uint256 modelId);

    /// @notice Retires an active model for good. Only its owner may do this. Batch verifiers with a slot of
    ///         the model stop verifying.
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

    /// @notice Registers a verifier of aggregated proofs whose slot `i` is a proof of `modelIds[i]`. The
    ///         verifier embeds the inner verifying keys, so the registry cannot tell which models it really
    ///         checks: it verifies only once the owner of every slot's model has approved it (the trust a
    ///         model owner gives the model's own verifier). Slots of models the caller owns are approved at
    ///         once; with all of them it is active immediately.
    /// @param verifier The aggregated verifier (behind an adapter that checks instance count and proof length).
    /// @param verifyGasLimit Gas forwarded to it on each verification.
    /// @param modelIds The active model of each slot, in the aggregated proof's order.
    /// @return batchVerifierId The new batch verifier id (ids start at 1, never reused).
    function registerBatchVerifier(IZkmlVerifier verifier, uint32 verifyGasLimit, uint256[] calldata modelIds)
        external
        returns (uint256 batchVerifierId);

    /// @notice Approves a pending batch verifier for every slot whose model the caller owns.
    /// @param batchVerifierId The batch verifier.
    function approveBatchVerifier(uint256 batchVerifierId) external;

    /// @notice Retires a batch verifier for good. Its registrant or the owner of any slot's model may do it.
    /// @param batchVerifierId The batch verifier.
    function retireBatchVerifier(uint256 batchVerifierId) external;

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

    /// @notice Returns a registered batch verifier. Its stored status does not change when a slot's model is
    ///         retired; `batchVerifierUsable` says whether it verifies now.
    /// @param batchVerifierId The batch verifier id.
    /// @return The batch verifier.
    function batchVerifier(uint256 batchVerifierId) external view returns (BatchVerifier memory);

    /// @notice Whether the owner of `modelId` has approved the batch verifier.
    /// @param batchVerifierId The batch verifier id.
    /// @param modelId A slot's model.
    /// @return approved True once approved.
    function batchVerifierApproved(uint256 batchVerifierId, uint256 modelId) external view returns (bool approved);

    /// @notice True when the batch verifier is active and every slot's model is active.
    /// @param batchVerifierId The batch verifier id.
    /// @return usable Whether `requireValidBatch` may accept a proof.
    function batchVerifierUsable(uint256 batchVerifierId) external view returns (bool usable);

    /// @notice The number of batch verifier ids handed out so far.
    /// @return The batch verifier count.
    function batchVerifierCount() external view returns (uint256);

    /// @notice The number of public instances of a model's proofs (from its layout).
    /// @param modelId The model id.
    /// @return The instance count.
    function numInstances(uint256 modelId) external view returns (uint256);

    /// @notice The public instances of an inference of `modelId`: its commitment (committed weights), then
    ///         its input and output sections packed per its layout. Reverts, naming the value, when a count is
    ///         wrong or a value does not fit its slot.
    /// @param modelId The model id.
    /// @param values The inference's inputs and outputs (see `InferenceValues`).
    /// @return instances The instances its proof verifies against.
    function inferenceInstances(uint256 modelId, InferenceValues calldata values)
        external
        view
        returns (uint256[] memory instances);

    /// @notice Checks that the proof's instances hold the model's commitment (committed weights), then
    ///         checks the proof with the model's verifier under the model's gas cap.
    /// @dev Reverts if the model is unknown or retired, or if too little gas was left to give the verifier
    ///      its full gas limit. A commitment mismatch returns false without calling the verifier. A verifier
    ///      that reverts, runs out of gas or returns anything but an ABI `true` counts as a rejection. Prefer
    ///      `requireValidInference`, which builds the instances itself.
    /// @param modelId The model the proof claims to be about.
    /// @param proof The proof bytes.
    /// @param instances The public instances.
    /// @return valid True when the instances hold the model's commitment and the verifier accepted the proof.
    function isValidProof(uint256 modelId, bytes calldata proof, uint256[] calldata instances)
        external
        view
        returns (bool valid);

    /// @notice Like `isValidProof`, but reverts instead of returning false: with
    ///         `ZkmlRegistryCommitmentMismatch` or `ZkmlRegistryCommitmentMissing`, else with
    ///         `ZkmlRegistryProofRejected` when the verifier rejects the proof.
    /// @param modelId The model the proof claims to be about.
    /// @param proof The proof bytes.
    /// @param instances The public instances.
    function requireValidProof(uint256 modelId, bytes calldata proof, uint256[] calldata instances) external view;

    /// @notice Builds the instances of the inference from its values (`instances`) and checks the proof with
    ///         the model's verifier under its gas cap; reverts with `ZkmlRegistryProofRejected` when rejected.
    /// @param modelId The model the proof claims to be about.
    /// @param proof The proof bytes.
    /// @param values The inference's inputs and outputs.
    function requireValidInference(uint256 modelId, bytes calldata proof, InferenceValues calldata values) external view;

    /// @notice Builds an aggregated proof's instances (the accumulator limbs, then each slot's instances
    ///         packed from its values per its model's layout) and checks the proof with the batch verifier
    ///         under its gas cap. Reverts unless the batch verifier is active and every slot's model is active,
    ///         and with `ZkmlRegistryBatchProofRejected` when the proof is rejected.
    /// @param batchVerifierId The batch verifier.
    /// @param proof The aggregated proof bytes.
    /// @param accumulator The 12 accumulator limbs the aggregated proof carries, each below 2**88.
    /// @param values Each slot's inputs and outputs, in slot order.
    function requireValidBatch(
        uint256 batchVerifierId,
        bytes calldata proof,
        uint256[12] calldata accumulator,
        InferenceValues[] calldata values
    ) external view;
}
