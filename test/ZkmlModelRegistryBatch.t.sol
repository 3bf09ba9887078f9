// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.24;

import {Test, Vm} from "forge-std/Test.sol";
import {ZkmlModelRegistry} from "../contracts/ZkmlModelRegistry.sol";
import {
    BatchVerifier,
    BatchVerifierStatus,
    IZkmlModelRegistry,
    InferenceValues,
    InputVisibility,
    ModelConfig,
    OutputVisibility,
    PublicLayout,
    WeightVisibility
} from "../contracts/interfaces/IZkmlModelRegistry.sol";
import {IZkmlVerifier} from "../contracts/interfaces/IZkmlVerifier.sol";
import {MockZkmlVerifier} from "../contracts/test/MockZkmlVerifier.sol";
import {GasBurningVerifier, RawReturnVerifier} from "./mocks/HostileVerifiers.sol";

/// @notice Batch verifiers (aggregated proofs over slots of registered models) against the mock verifier,
///         which accepts exactly the keccak256 of the instances it is given: a proof made from the instances
///         the test expects passes only if the registry builds exactly those instances.
contract ZkmlModelRegistryBatchTest is Test {
    ZkmlModelRegistry internal registry;
    MockZkmlVerifier internal verifier;

    address internal alice = makeAddr("alice");
    address internal bob = makeAddr("bob");
    address internal carol = makeAddr("carol");
    address internal stranger = makeAddr("stranger");

    uint32 internal constant GAS_LIMIT = 500_000;
    uint256 internal constant FIELD =
        21_888_242_871_839_275_222_246_405_745_257_275_088_548_364_400_416_034_343_698_204_186_575_808_495_617;
    bytes32 internal constant COMMITMENT_A = bytes32(uint256(0xa));
    bytes32 internal constant COMMITMENT_B = bytes32(uint256(0xb));
    bytes32 internal constant COMMITMENT_C = bytes32(uint256(0xc));

    /// @dev Alice's fixed-weights model with public inputs and outputs (2 instances).
    uint256 internal modelA;
    /// @dev Alice's second model, same layout.
    uint256 internal modelA2;
    /// @dev Bob's committed-weights model with hashed inputs and public outputs (3 instances).
    uint256 internal modelB;
    /// @dev Carol's fixed-weights model with private inputs and hashed outputs (1 instance).
    uint256 internal modelC;

    function setUp() public {
        registry = new ZkmlModelRegistry();
        verifier = new MockZkmlVerifier();
        modelA = _registerModel(alice, COMMITMENT_A, _layoutA());
        modelA2 = _registerModel(alice, COMMITMENT_A, _layoutA());
        modelB = _registerModel(bob, COMMITMENT_B, _layoutB());
        modelC = _registerModel(carol, COMMITMENT_C, _layoutC());
    }

    // ---------------------------------------------------------------- helpers

    function _layoutA() internal pure returns (PublicLayout memory) {
        return PublicLayout({
            weights: WeightVisibility.Fixed,
            input: InputVisibility.Public,
            output: OutputVisibility.Public,
            inputScale: 8,
            outputScale: 8,
            inputWidth: 16,
            outputWidth: 20,
            inputCount: 4,
            outputCount: 3
        });
    }

    function _layoutB() internal pure returns (PublicLayout memory l) {
        l = _layoutA();
        l.weights = WeightVisibility.Committed;
        l.input = InputVisibility.Hashed;
        l.inputWidth = 10;
        l.inputCount = 8;
        // Two values per element: 2 outputs fill one.
        l.outputWidth = 126;
        l.outputCount = 2;
    }

    function _layoutC() internal pure returns (PublicLayout memory l) {
        l = _layoutA();
        l.input = InputVisibility.Private;
        l.inputWidth = 0;
        l.inputCount = 0;
        l.output = OutputVisibility.Hashed;
    }

    function _registerModel(address owner, bytes32 commitment, PublicLayout memory l) internal returns (uint256 id) {
        vm.prank(owner);
        id = registry.registerModel(
            ModelConfig({verifier: verifier, commitment: commitment, verifyGasLimit: GAS_LIMIT, publicLayout: l})
        );
    }

    function _registerBatch(address registrant, IZkmlVerifier v, uint256[] memory modelIds)
        internal
        returns (uint256 id)
    {
        vm.prank(registrant);
        id = registry.registerBatchVerifier(v, GAS_LIMIT, modelIds);
    }

    function _ids(uint256 a) internal pure returns (uint256[] memory ids) {
        ids = new uint256[](1);
        ids[0] = a;
    }

    function _ids(uint256 a, uint256 b) internal pure returns (uint256[] memory ids) {
        ids = new uint256[](2);
        (ids[0], ids[1]) = (a, b);
    }

    function _ids(uint256 a, uint256 b, uint256 c, uint256 d) internal pure returns (uint256[] memory ids) {
        ids = new uint256[](4);
        (ids[0], ids[1], ids[2], ids[3]) = (a, b, c, d);
    }

    /// @dev `count` copies of `modelId`.
    function _repeat(uint256 modelId, uint256 count) internal pure returns (uint256[] memory ids) {
        ids = new uint256[](count);
        for (uint256 i = 0; i < count; ++i) {
            ids[i] = modelId;
        }
    }

    function _signed(uint256 seed, uint256 count, uint256 width) internal pure returns (int256[] memory values) {
        values = new int256[](count);
        for (uint256 i = 0; i < count; ++i) {
            // Below 2**width <= 2**252: the cast is exact.
            // forge-lint: disable-next-line(unsafe-typecast)
            values[i] = int256(uint256(keccak256(abi.encode(seed, i))) % (uint256(1) << width))
                - int256(uint256(1) << (width - 1));
        }
    }

    function _hash(uint256 seed) internal pure returns (int256[] memory word) {
        word = new int256[](1);
        // Below the field modulus < 2**254: the cast is exact.
        // forge-lint: disable-next-line(unsafe-typecast)
        word[0] = int256(uint256(keccak256(abi.encode("hash", seed))) % FIELD);
    }

    /// @dev The values of an inference of `modelId`, drawn from `seed`, shaped by its registered layout.
    function _valuesOf(uint256 modelId, uint256 seed) internal view returns (InferenceValues memory v) {
        PublicLayout memory l = registry.model(modelId).publicLayout;
        if (l.input == InputVisibility.Public) v.inputs = _signed(seed, l.inputCount, l.inputWidth);
        else if (l.input == InputVisibility.Hashed) v.inputs = _hash(seed);
        if (l.output == OutputVisibility.Public) v.outputs = _signed(~seed, l.outputCount, l.outputWidth);
        else v.outputs = _hash(~seed);
    }

    /// @dev One inference per slot, each from its own seed.
    function _slotValues(uint256[] memory modelIds, uint256 seed)
        internal
        view
        returns (InferenceValues[] memory values)
    {
        values = new InferenceValues[](modelIds.length);
        for (uint256 i = 0; i < modelIds.length; ++i) {
            values[i] = _valuesOf(modelIds[i], uint256(keccak256(abi.encode(seed, i))));
        }
    }

    function _accumulator(uint256 seed) internal pure returns (uint256[12] memory limbs) {
        for (uint256 i = 0; i < 12; ++i) {
            limbs[i] = uint256(keccak256(abi.encode("limb", seed, i))) >> (256 - 88);
        }
    }

    /// @dev The aggregated proof's instances: the 12 limbs, then each slot's instances in slot order.
    function _batchWords(uint256[] memory modelIds, uint256[12] memory limbs, InferenceValues[] memory values)
        internal
        view
        returns (uint256[] memory words)
    {
        uint256[][] memory slots = new uint256[][](modelIds.length);
        uint256 total = 12;
        for (uint256 i = 0; i < modelIds.length; ++i) {
            slots[i] = registry.inferenceInstances(modelIds[i], values[i]);
            total += slots[i].length;
        }
        words = new uint256[](total);
        for (uint256 i = 0; i < 12; ++i) {
            words[i] = limbs[i];
        }
        uint256 next = 12;
        for (uint256 i = 0; i < slots.length; ++i) {
            for (uint256 j = 0; j < slots[i].length; ++j) {
                words[next++] = slots[i][j];
            }
        }
    }

    function _batchProof(uint256[] memory modelIds, uint256[12] memory limbs, InferenceValues[] memory values)
        internal
        view
        returns (bytes memory)
    {
        return verifier.mockProof(_batchWords(modelIds, limbs, values));
    }

    /// @dev Alice's batch verifier over [A, B], approved by Bob: active.
    function _activeAB() internal returns (uint256 id, uint256[] memory ids) {
        ids = _ids(modelA, modelB);
        id = _registerBatch(alice, verifier, ids);
        vm.prank(bob);
        registry.approveBatchVerifier(id);
    }

    /// @dev Asserts `requireValidBatch` accepts a fresh valid proof for the batch verifier's slots.
    function _assertVerifies(uint256 id, uint256[] memory ids) internal view {
        uint256[12] memory limbs = _accumulator(id);
        InferenceValues[] memory values = _slotValues(ids, id);
        registry.requireValidBatch(id, _batchProof(ids, limbs, values), limbs, values);
    }

    /// @dev Asserts that a valid proof is refused because of the batch verifier's status.
    function _assertNotActive(uint256 id, uint256[] memory ids, BatchVerifierStatus status) internal {
        uint256[12] memory limbs = _accumulator(id);
        InferenceValues[] memory values = _slotValues(ids, id);
        bytes memory proof = _batchProof(ids, limbs, values);
        vm.expectRevert(
            abi.encodeWithSelector(IZkmlModelRegistry.ZkmlRegistryBatchVerifierNotActive.selector, id, status)
        );
        registry.requireValidBatch(id, proof, limbs, values);
    }

    function _countLogs(Vm.Log[] memory logs, bytes32 topic) internal view returns (uint256 count) {
        for (uint256 i = 0; i < logs.length; ++i) {
            if (logs[i].emitter == address(registry) && logs[i].topics[0] == topic) ++count;
        }
    }

    // ---------------------------------------------------------------- registration and approval

    function test_RegisterBatchVerifier_OwnerOfEverySlotIsActiveAtOnce() public {
        uint256[] memory ids = _ids(modelA, modelA2);
        vm.expectEmit(address(registry));
        emit IZkmlModelRegistry.BatchVerifierRegistered(1, alice, verifier, GAS_LIMIT, ids, 0);
        vm.expectEmit(address(registry));
        emit IZkmlModelRegistry.BatchVerifierApproved(1, modelA, alice);
        vm.expectEmit(address(registry));
        emit IZkmlModelRegistry.BatchVerifierApproved(1, modelA2, alice);
        vm.expectEmit(address(registry));
        emit IZkmlModelRegistry.BatchVerifierActivated(1);
        uint256 id = _registerBatch(alice, verifier, ids);
        assertEq(id, 1);

        BatchVerifier memory b = registry.batchVerifier(id);
        assertEq(address(b.verifier), address(verifier));
        assertEq(b.verifyGasLimit, GAS_LIMIT);
        assertEq(uint8(b.status), uint8(BatchVerifierStatus.Active));
        assertEq(b.registrant, alice);
        assertEq(b.pendingApprovals, 0);
        assertEq(b.modelIds, ids);
        assertTrue(registry.batchVerifierApproved(id, modelA));
        assertTrue(registry.batchVerifierApproved(id, modelA2));
        assertTrue(registry.batchVerifierUsable(id));
        _assertVerifies(id, ids);
    }

    function test_RegisterBatchVerifier_AssignsSequentialIdsFromOne() public {
        assertEq(registry.batchVerifierCount(), 0);
        assertEq(_registerBatch(alice, verifier, _ids(modelA)), 1);
        assertEq(_registerBatch(bob, verifier, _ids(modelA)), 2);
        assertEq(registry.batchVerifierCount(), 2);
        // Batch verifier ids are their own sequence: models are not counted.
        assertEq(registry.modelCount(), 4);
    }

    function test_BatchVerifierWithAnotherOwnersSlotIsPendingUntilApproved() public {
        uint256[] memory ids = _ids(modelA, modelB);
        vm.expectEmit(address(registry));
        emit IZkmlModelRegistry.BatchVerifierRegistered(1, alice, verifier, GAS_LIMIT, ids, 1);
        vm.expectEmit(address(registry));
        emit IZkmlModelRegistry.BatchVerifierApproved(1, modelA, alice);
        vm.recordLogs();
        uint256 id = _registerBatch(alice, verifier, ids);
        assertEq(_countLogs(vm.getRecordedLogs(), IZkmlModelRegistry.BatchVerifierActivated.selector), 0);

        BatchVerifier memory b = registry.batchVerifier(id);
        assertEq(uint8(b.status), uint8(BatchVerifierStatus.Pending));
        assertEq(b.pendingApprovals, 1);
        assertTrue(registry.batchVerifierApproved(id, modelA));
        assertFalse(registry.batchVerifierApproved(id, modelB));
        assertFalse(registry.batchVerifierUsable(id));
        // Bob's model's slot is not his to vouch for until he says so: even a valid proof is refused.
        _assertNotActive(id, ids, BatchVerifierStatus.Pending);

        vm.expectEmit(address(registry));
        emit IZkmlModelRegistry.BatchVerifierApproved(id, modelB, bob);
        vm.expectEmit(address(registry));
        emit IZkmlModelRegistry.BatchVerifierActivated(id);
        vm.prank(bob);
        registry.approveBatchVerifier(id);

        b = registry.batchVerifier(id);
        assertEq(uint8(b.status), uint8(BatchVerifierStatus.Active));
        assertEq(b.pendingApprovals, 0);
        assertTrue(registry.batchVerifierApproved(id, modelB));
        assertTrue(registry.batchVerifierUsable(id));
        _assertVerifies(id, ids);
    }

    function test_RevertsWhen_StrangerApproves() public {
        uint256 id = _registerBatch(alice, verifier, _ids(modelA, modelB));
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(IZkmlModelRegistry.ZkmlRegistryBatchUnauthorized.selector, id, stranger));
        registry.approveBatchVerifier(id);

        // The registrant cannot approve Bob's slot either: she has nothing left to approve.
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IZkmlModelRegistry.ZkmlRegistryBatchUnauthorized.selector, id, alice));
        registry.approveBatchVerifier(id);
        assertEq(uint8(registry.batchVerifier(id).status), uint8(BatchVerifierStatus.Pending));
    }

    function test_RevertsWhen_ApprovingTwice() public {
        uint256 id = _registerBatch(alice, verifier, _ids(modelA, modelB, modelC, modelA2));
        vm.prank(bob);
        registry.approveBatchVerifier(id);
        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(IZkmlModelRegistry.ZkmlRegistryBatchUnauthorized.selector, id, bob));
        registry.approveBatchVerifier(id);
        assertEq(registry.batchVerifier(id).pendingApprovals, 1, "a second approval counted again");
    }

    function test_OneApprovalCoversEverySlotOfThatModel() public {
        uint256[] memory ids = _ids(modelB, modelA, modelB, modelC);
        uint256 id = _registerBatch(alice, verifier, ids);
        // Two owners to hear from, Bob (two slots) and Carol.
        assertEq(registry.batchVerifier(id).pendingApprovals, 2);

        vm.recordLogs();
        vm.prank(bob);
        registry.approveBatchVerifier(id);
        assertEq(_countLogs(vm.getRecordedLogs(), IZkmlModelRegistry.BatchVerifierApproved.selector), 1);
        assertEq(registry.batchVerifier(id).pendingApprovals, 1);
        assertEq(uint8(registry.batchVerifier(id).status), uint8(BatchVerifierStatus.Pending));

        vm.prank(carol);
        registry.approveBatchVerifier(id);
        assertEq(uint8(registry.batchVerifier(id).status), uint8(BatchVerifierStatus.Active));
        _assertVerifies(id, ids);
    }

    function test_RegistrantsModelInSeveralSlotsIsApprovedOnce() public {
        uint256[] memory ids = _repeat(modelA, 3);
        vm.recordLogs();
        uint256 id = _registerBatch(alice, verifier, ids);
        assertEq(_countLogs(vm.getRecordedLogs(), IZkmlModelRegistry.BatchVerifierApproved.selector), 1);
        assertEq(uint8(registry.batchVerifier(id).status), uint8(BatchVerifierStatus.Active));
        _assertVerifies(id, ids);
    }

    /// @dev The approval is the model owner's at the time: a model's previous owner cannot give it.
    function test_ApprovalFollowsModelOwnership() public {
        uint256 id = _registerBatch(alice, verifier, _ids(modelA, modelB));
        vm.prank(bob);
        registry.transferModelOwnership(modelB, carol);
        vm.prank(carol);
        registry.acceptModelOwnership(modelB);

        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(IZkmlModelRegistry.ZkmlRegistryBatchUnauthorized.selector, id, bob));
        registry.approveBatchVerifier(id);
        vm.expectEmit(address(registry));
        emit IZkmlModelRegistry.BatchVerifierApproved(id, modelB, carol);
        vm.prank(carol);
        registry.approveBatchVerifier(id);
        assertTrue(registry.batchVerifierUsable(id));
    }

    function test_RevertsWhen_SlotCountOutOfRange() public {
        uint256 max = registry.MAX_BATCH_SLOTS();
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IZkmlModelRegistry.ZkmlRegistryInvalidSlotCount.selector, 0, max));
        registry.registerBatchVerifier(verifier, GAS_LIMIT, new uint256[](0));

        uint256[] memory tooMany = _repeat(modelA, max + 1);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IZkmlModelRegistry.ZkmlRegistryInvalidSlotCount.selector, max + 1, max));
        registry.registerBatchVerifier(verifier, GAS_LIMIT, tooMany);

        // One and sixteen slots are fine.
        _registerBatch(alice, verifier, _ids(modelA));
        uint256 id = _registerBatch(alice, verifier, _repeat(modelA, max));
        _assertVerifies(id, _repeat(modelA, max));
    }

    /// @dev Every slot's values are packed in the one transaction: their sum is bounded like one model's.
    function test_RevertsWhen_BatchHasTooManyPublicValues() public {
        uint256 max = registry.MAX_BATCH_PUBLIC_VALUES();
        uint256 slots = registry.MAX_BATCH_SLOTS();
        // 256 one-bit inputs and one output: 16 slots of it are 4,112 values, 16 over the bound.
        PublicLayout memory wide = _layoutA();
        wide.inputWidth = 1;
        wide.inputCount = 256;
        wide.outputCount = 1;
        uint256 modelW = _registerModel(alice, bytes32(0), wide);
        uint256 perSlot = uint256(wide.inputCount) + wide.outputCount;

        vm.prank(alice);
        vm.expectRevert(
            abi.encodeWithSelector(IZkmlModelRegistry.ZkmlRegistryTooManyPublicValues.selector, perSlot * slots, max)
        );
        registry.registerBatchVerifier(verifier, GAS_LIMIT, _repeat(modelW, slots));

        // Fifteen of them and one slot of model A (7 values) fit.
        uint256[] memory ids = _repeat(modelW, slots);
        ids[slots - 1] = modelA;
        uint256 id = _registerBatch(alice, verifier, ids);
        _assertVerifies(id, ids);
    }

    function test_RevertsWhen_SlotModelUnknownOrRetired() public {
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IZkmlModelRegistry.ZkmlRegistryUnknownModel.selector, 99));
        registry.registerBatchVerifier(verifier, GAS_LIMIT, _ids(modelA, 99));

        vm.prank(carol);
        registry.retireModel(modelC);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IZkmlModelRegistry.ZkmlRegistryModelIsRetired.selector, modelC));
        registry.registerBatchVerifier(verifier, GAS_LIMIT, _ids(modelA, modelC));
        assertEq(registry.batchVerifierCount(), 0, "a refused registration took an id");
    }

    function test_RevertsWhen_BatchVerifierInvalid() public {
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IZkmlModelRegistry.ZkmlRegistryInvalidVerifier.selector, carol));
        registry.registerBatchVerifier(IZkmlVerifier(carol), GAS_LIMIT, _ids(modelA));

        uint32 tooLow = registry.MIN_VERIFY_GAS_LIMIT() - 1;
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IZkmlModelRegistry.ZkmlRegistryInvalidGasLimit.selector, tooLow));
        registry.registerBatchVerifier(verifier, tooLow, _ids(modelA));

        uint32 tooHigh = registry.MAX_VERIFY_GAS_LIMIT() + 1;
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IZkmlModelRegistry.ZkmlRegistryInvalidGasLimit.selector, tooHigh));
        registry.registerBatchVerifier(verifier, tooHigh, _ids(modelA));
    }

    function test_RevertsWhen_BatchVerifierUnknown() public {
        bytes memory unknown = abi.encodeWithSelector(IZkmlModelRegistry.ZkmlRegistryUnknownBatchVerifier.selector, 1);
        vm.expectRevert(unknown);
        registry.batchVerifier(1);
        vm.expectRevert(unknown);
        registry.approveBatchVerifier(1);
        vm.expectRevert(unknown);
        registry.retireBatchVerifier(1);
        uint256[12] memory limbs;
        vm.expectRevert(unknown);
        registry.requireValidBatch(1, "", limbs, new InferenceValues[](0));
        assertFalse(registry.batchVerifierUsable(1));
    }

    // ---------------------------------------------------------------- retirement

    function test_RetiringASlotModelDisablesTheBatchVerifier() public {
        (uint256 id, uint256[] memory ids) = _activeAB();
        _assertVerifies(id, ids);
        uint256[12] memory limbs = _accumulator(7);
        InferenceValues[] memory values = _slotValues(ids, 7);
        bytes memory proof = _batchProof(ids, limbs, values);

        vm.prank(bob);
        registry.retireModel(modelB);
        assertFalse(registry.batchVerifierUsable(id));
        // The stored status stays: `batchVerifierUsable` is the one answer to "does it verify now".
        assertEq(uint8(registry.batchVerifier(id).status), uint8(BatchVerifierStatus.Active));
        vm.expectRevert(abi.encodeWithSelector(IZkmlModelRegistry.ZkmlRegistryModelIsRetired.selector, modelB));
        registry.requireValidBatch(id, proof, limbs, values);
    }

    function test_RetireBatchVerifier_ByRegistrant() public {
        (uint256 id, uint256[] memory ids) = _activeAB();
        vm.expectEmit(address(registry));
        emit IZkmlModelRegistry.BatchVerifierRetired(id, alice);
        vm.prank(alice);
        registry.retireBatchVerifier(id);
        _assertRetired(id, ids);
    }

    /// @dev A slot model's owner may pull the batch verifier, pending or active, without being its registrant.
    function test_RetireBatchVerifier_BySlotOwner() public {
        uint256[] memory ids = _ids(modelA, modelB);
        uint256 pending = _registerBatch(alice, verifier, ids);
        vm.expectEmit(address(registry));
        emit IZkmlModelRegistry.BatchVerifierRetired(pending, bob);
        vm.prank(bob);
        registry.retireBatchVerifier(pending);
        _assertRetired(pending, ids);

        (uint256 active,) = _activeAB();
        vm.prank(bob);
        registry.retireBatchVerifier(active);
        _assertRetired(active, ids);
    }

    function test_RevertsWhen_StrangerRetiresBatchVerifier() public {
        (uint256 id, uint256[] memory ids) = _activeAB();
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(IZkmlModelRegistry.ZkmlRegistryBatchUnauthorized.selector, id, stranger));
        registry.retireBatchVerifier(id);
        // Carol owns a model, just not one of this batch verifier's slots.
        vm.prank(carol);
        vm.expectRevert(abi.encodeWithSelector(IZkmlModelRegistry.ZkmlRegistryBatchUnauthorized.selector, id, carol));
        registry.retireBatchVerifier(id);
        _assertVerifies(id, ids);
    }

    /// @dev A retired batch verifier is a tombstone: it never verifies, and cannot be approved or retired again.
    function _assertRetired(uint256 id, uint256[] memory ids) internal {
        assertEq(uint8(registry.batchVerifier(id).status), uint8(BatchVerifierStatus.Retired));
        assertFalse(registry.batchVerifierUsable(id));
        _assertNotActive(id, ids, BatchVerifierStatus.Retired);
        bytes memory notActive = abi.encodeWithSelector(
            IZkmlModelRegistry.ZkmlRegistryBatchVerifierNotActive.selector, id, BatchVerifierStatus.Retired
        );
        vm.prank(alice);
        vm.expectRevert(notActive);
        registry.retireBatchVerifier(id);
        vm.prank(bob);
        vm.expectRevert(notActive);
        registry.approveBatchVerifier(id);
    }

    // ---------------------------------------------------------------- verification

    /// @dev Each slot is packed with its own model's layout, and a committed-weights slot starts with the
    ///      commitment the registry holds, not one the caller gives.
    function test_RequireValidBatch_PacksEverySlotWithItsOwnLayout() public {
        uint256[] memory ids = _ids(modelA, modelB, modelC, modelA);
        uint256 id = _registerBatch(alice, verifier, ids);
        vm.prank(bob);
        registry.approveBatchVerifier(id);
        vm.prank(carol);
        registry.approveBatchVerifier(id);

        uint256[12] memory limbs = _accumulator(1);
        InferenceValues[] memory values = _slotValues(ids, 1);
        uint256[] memory words = _batchWords(ids, limbs, values);
        // 12 limbs, A: 2 packed elements, B: commitment + input hash + 1 packed element, C: output hash, A: 2.
        assertEq(words.length, 12 + 2 + 3 + 1 + 2);
        for (uint256 i = 0; i < 12; ++i) {
            assertEq(words[i], limbs[i]);
        }
        assertEq(words[14], uint256(COMMITMENT_B), "B's slot starts with its commitment");
        assertEq(words[15], uint256(values[1].inputs[0]), "then the hash of its inputs");
        assertEq(words[17], uint256(values[2].outputs[0]), "C's slot is its output hash alone");

        bytes memory proof = verifier.mockProof(words);
        vm.expectCall(address(verifier), abi.encodeCall(IZkmlVerifier.verifyProof, (proof, words)), 1);
        registry.requireValidBatch(id, proof, limbs, values);
    }

    function testFuzz_RequireValidBatch_AcceptsAProofOfItsInstances(uint256 seed, uint256 slotSeed) public {
        // One to sixteen slots of any of the four models.
        uint256[4] memory models = [modelA, modelA2, modelB, modelC];
        uint256[] memory ids = new uint256[](1 + slotSeed % 16);
        for (uint256 i = 0; i < ids.length; ++i) {
            ids[i] = models[(slotSeed >> (8 + 2 * i)) % 4];
        }
        uint256 id = _registerBatch(alice, verifier, ids);
        vm.prank(bob);
        try registry.approveBatchVerifier(id) {} catch {}
        vm.prank(carol);
        try registry.approveBatchVerifier(id) {} catch {}
        assertTrue(registry.batchVerifierUsable(id));

        uint256[12] memory limbs = _accumulator(seed);
        InferenceValues[] memory values = _slotValues(ids, seed);
        registry.requireValidBatch(id, _batchProof(ids, limbs, values), limbs, values);
    }

    function testFuzz_RevertsWhen_BatchProofTampered(uint256 byteIndex, uint8 flip) public {
        vm.assume(flip != 0);
        (uint256 id, uint256[] memory ids) = _activeAB();
        uint256[12] memory limbs = _accumulator(2);
        InferenceValues[] memory values = _slotValues(ids, 2);
        bytes memory proof = _batchProof(ids, limbs, values);
        byteIndex = bound(byteIndex, 0, proof.length - 1);
        proof[byteIndex] ^= bytes1(flip);
        vm.expectRevert(abi.encodeWithSelector(IZkmlModelRegistry.ZkmlRegistryBatchProofRejected.selector, id));
        registry.requireValidBatch(id, proof, limbs, values);
    }

    function testFuzz_RevertsWhen_SlotValueTampered(bool secondSlot, uint256 index) public {
        (uint256 id, uint256[] memory ids) = _activeAB();
        uint256[12] memory limbs = _accumulator(3);
        InferenceValues[] memory values = _slotValues(ids, 3);
        bytes memory proof = _batchProof(ids, limbs, values);
        // A's outputs are public values, B's first output too (its inputs are a hash): change one toward zero
        // so it stays inside its slot and only the proof can catch it.
        int256[] memory outputs = values[secondSlot ? 1 : 0].outputs;
        index = bound(index, 0, outputs.length - 1);
        outputs[index] += outputs[index] < 0 ? int256(1) : -1;
        vm.expectRevert(abi.encodeWithSelector(IZkmlModelRegistry.ZkmlRegistryBatchProofRejected.selector, id));
        registry.requireValidBatch(id, proof, limbs, values);
    }

    function testFuzz_RevertsWhen_AccumulatorLimbTampered(uint256 index, uint256 delta) public {
        (uint256 id, uint256[] memory ids) = _activeAB();
        uint256[12] memory limbs = _accumulator(4);
        InferenceValues[] memory values = _slotValues(ids, 4);
        bytes memory proof = _batchProof(ids, limbs, values);
        index = bound(index, 0, 11);
        // Another limb below 2**88: well-formed, just not the proof's.
        limbs[index] = (limbs[index] + bound(delta, 1, (uint256(1) << 88) - 1)) % (uint256(1) << 88);
        vm.expectRevert(abi.encodeWithSelector(IZkmlModelRegistry.ZkmlRegistryBatchProofRejected.selector, id));
        registry.requireValidBatch(id, proof, limbs, values);
    }

    /// @dev A limb of 88 bits or more would be a second encoding of the same accumulator point: refused
    ///      before the verifier runs, even with a proof the verifier would accept for those words.
    function testFuzz_RevertsWhen_AccumulatorLimbTooWide(uint256 index, uint256 limb) public {
        (uint256 id, uint256[] memory ids) = _activeAB();
        index = bound(index, 0, 11);
        limb = bound(limb, uint256(1) << 88, type(uint256).max);
        uint256[12] memory limbs = _accumulator(5);
        limbs[index] = limb;
        InferenceValues[] memory values = _slotValues(ids, 5);
        bytes memory proof = _batchProof(ids, limbs, values);
        vm.expectCall(address(verifier), abi.encodeWithSelector(IZkmlVerifier.verifyProof.selector), 0);
        vm.expectRevert(
            abi.encodeWithSelector(IZkmlModelRegistry.ZkmlRegistryInvalidAccumulatorLimb.selector, index, limb)
        );
        registry.requireValidBatch(id, proof, limbs, values);
    }

    function test_AccumulatorLimbJustBelowTheBoundIsAccepted() public {
        (uint256 id, uint256[] memory ids) = _activeAB();
        uint256[12] memory limbs = _accumulator(6);
        limbs[11] = (uint256(1) << 88) - 1;
        InferenceValues[] memory values = _slotValues(ids, 6);
        registry.requireValidBatch(id, _batchProof(ids, limbs, values), limbs, values);
    }

    /// @dev The registry writes B's commitment into B's slot: a proof of B's circuit under other weights
    ///      (instances with another commitment) is not B's.
    function test_RevertsWhen_BatchSlotIsOfOtherWeights() public {
        (uint256 id, uint256[] memory ids) = _activeAB();
        uint256[12] memory limbs = _accumulator(8);
        InferenceValues[] memory values = _slotValues(ids, 8);
        uint256[] memory words = _batchWords(ids, limbs, values);
        assertEq(words[14], uint256(COMMITMENT_B));
        words[14] = uint256(COMMITMENT_B) + 1;
        bytes memory otherWeights = verifier.mockProof(words);
        vm.expectRevert(abi.encodeWithSelector(IZkmlModelRegistry.ZkmlRegistryBatchProofRejected.selector, id));
        registry.requireValidBatch(id, otherWeights, limbs, values);
    }

    function test_RevertsWhen_WrongNumberOfSlotValues() public {
        (uint256 id, uint256[] memory ids) = _activeAB();
        uint256[12] memory limbs = _accumulator(9);
        bytes memory proof = _batchProof(ids, limbs, _slotValues(ids, 9));
        InferenceValues[] memory tooFew = _slotValues(_ids(modelA), 9);
        InferenceValues[] memory tooMany = _slotValues(_ids(modelA, modelB, modelC, modelA), 9);
        vm.expectRevert(abi.encodeWithSelector(IZkmlModelRegistry.ZkmlRegistryWrongSlotCount.selector, id, 1, 2));
        registry.requireValidBatch(id, proof, limbs, tooFew);
        vm.expectRevert(abi.encodeWithSelector(IZkmlModelRegistry.ZkmlRegistryWrongSlotCount.selector, id, 4, 2));
        registry.requireValidBatch(id, proof, limbs, tooMany);
    }

    /// @dev A slot's values are checked against that slot's model: the error names the model.
    function test_RevertsWhen_SlotHasTheWrongValueCount() public {
        (uint256 id, uint256[] memory ids) = _activeAB();
        uint256[12] memory limbs = _accumulator(10);
        InferenceValues[] memory values = _slotValues(ids, 10);
        // B's inputs are hashed: one word, not A's four values.
        values[1].inputs = values[0].inputs;
        vm.expectRevert(
            abi.encodeWithSelector(IZkmlModelRegistry.ZkmlRegistryWrongValueCount.selector, modelB, false, 4, 1)
        );
        registry.requireValidBatch(id, "", limbs, values);
    }

    // ---------------------------------------------------------------- gas cap

    /// @dev Gas `requireValidBatch` uses, the call data encoded beforehand and sent in place.
    function _batchGas(uint256 id, uint256[] memory ids) internal view returns (bool accepted, uint256 used) {
        uint256[12] memory limbs = _accumulator(11);
        bytes memory data = abi.encodeCall(registry.requireValidBatch, (id, hex"00", limbs, _slotValues(ids, 11)));
        address target = address(registry);
        uint256 before = gasleft();
        assembly ("memory-safe") {
            accepted := staticcall(gas(), target, add(data, 0x20), mload(data), 0, 0)
        }
        used = before - gasleft();
    }

    /// forge-config: default.fuzz.runs = 64
    /// @dev Sixteen slots, the most: a gas-burning batch verifier adds at most its limit to what the same
    ///      batch costs with a verifier that costs nothing.
    function testFuzz_GasBurningBatchVerifierCostsAtMostItsLimit(uint32 gasLimit) public {
        gasLimit = uint32(bound(gasLimit, registry.MIN_VERIFY_GAS_LIMIT(), 5_000_000));
        uint256[] memory ids = _repeat(modelB, registry.MAX_BATCH_SLOTS());
        vm.startPrank(bob);
        uint256 free = registry.registerBatchVerifier(
            IZkmlVerifier(address(new RawReturnVerifier(abi.encode(true)))), gasLimit, ids
        );
        uint256 burning = registry.registerBatchVerifier(new GasBurningVerifier(), gasLimit, ids);
        vm.stopPrank();

        (bool accepted, uint256 baseline) = _batchGas(free, ids);
        assertTrue(accepted);
        (accepted,) = _batchGas(burning, ids);
        assertFalse(accepted);
        (, uint256 used) = _batchGas(burning, ids);
        // The baseline paid for the first (cold) reads of its batch verifier: the slack is generous.
        assertLe(used, baseline + gasLimit + 10_000, "a hostile batch verifier took more than its cap");
    }

    function test_RevertsWhen_CallerStarvesTheBatchVerifier() public {
        GasBurningVerifier burner = new GasBurningVerifier();
        uint256[] memory ids = _ids(modelA, modelA2);
        uint256 id = _registerBatch(alice, burner, ids);
        uint256[12] memory limbs = _accumulator(12);
        // Too little gas for the verifier to get its limit: the registry must not report a rejection.
        (bool ok, bytes memory ret) = address(registry).call{gas: GAS_LIMIT / 2}(
            abi.encodeCall(registry.requireValidBatch, (id, hex"00", limbs, _slotValues(ids, 12)))
        );
        assertFalse(ok);
        assertEq(
            ret,
            abi.encodeWithSelector(IZkmlModelRegistry.ZkmlRegistryInsufficientGas.selector, address(burner), GAS_LIMIT)
        );
    }
}
