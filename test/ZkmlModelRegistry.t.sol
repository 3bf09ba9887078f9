// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.24;

import {Test} from "forge-std/Test.sol";
import {ZkmlModelRegistry} from "../contracts/ZkmlModelRegistry.sol";
import {IZkmlModelRegistry, Model, ModelConfig, ModelStatus} from "../contracts/interfaces/IZkmlModelRegistry.sol";
import {IZkmlVerifier} from "../contracts/interfaces/IZkmlVerifier.sol";
import {MockZkmlVerifier} from "../contracts/test/MockZkmlVerifier.sol";
import {
    GasBurningVerifier,
    GasHungryVerifier,
    RawReturnVerifier,
    RevertingVerifier
} from "./mocks/HostileVerifiers.sol";

contract ZkmlModelRegistryTest is Test {
    ZkmlModelRegistry internal registry;
    MockZkmlVerifier internal verifier;

    address internal alice = makeAddr("alice");
    address internal bob = makeAddr("bob");

    bytes32 internal constant COMMITMENT = bytes32(uint256(0x1234));
    uint32 internal constant GAS_LIMIT = 500_000;
    uint256 internal constant FIELD =
        21_888_242_871_839_275_222_246_405_745_257_275_088_548_364_400_416_034_343_698_204_186_575_808_495_617;
    /// @dev Gas the registry itself spends around the verifier call (ABI encoding, storage reads, checks).
    uint256 internal constant REGISTRY_OVERHEAD = 40_000;

    function setUp() public {
        registry = new ZkmlModelRegistry();
        verifier = new MockZkmlVerifier();
    }

    // ---------------------------------------------------------------- helpers

    function _config(IZkmlVerifier v) internal pure returns (ModelConfig memory) {
        return ModelConfig({
            verifier: v,
            commitment: COMMITMENT,
            inputScale: 7,
            outputScale: 7,
            verifyGasLimit: GAS_LIMIT,
            commitmentIndices: new uint16[](0)
        });
    }

    /// @dev A model whose instances must hold `COMMITMENT` at `indices` (committed weights).
    function _registerCommitted(address owner, IZkmlVerifier v, uint16[] memory indices)
        internal
        returns (uint256 modelId)
    {
        ModelConfig memory config = _config(v);
        config.commitmentIndices = indices;
        vm.prank(owner);
        modelId = registry.registerModel(config);
    }

    function _indices(uint16 a) internal pure returns (uint16[] memory indices) {
        indices = new uint16[](1);
        indices[0] = a;
    }

    function _indices(uint16 a, uint16 b) internal pure returns (uint16[] memory indices) {
        indices = new uint16[](2);
        indices[0] = a;
        indices[1] = b;
    }

    function _register(address owner, IZkmlVerifier v) internal returns (uint256 modelId) {
        vm.prank(owner);
        modelId = registry.registerModel(_config(v));
    }

    /// @dev The indices 0, 1, ..., count - 1.
    function _ascending(uint256 count) internal pure returns (uint16[] memory indices) {
        indices = new uint16[](count);
        for (uint256 i = 0; i < count; ++i) {
            // Tests ask for a few dozen at most: the cast is exact.
            // forge-lint: disable-next-line(unsafe-typecast)
            indices[i] = uint16(i);
        }
    }

    function _instances(uint256 seed, uint256 length) internal pure returns (uint256[] memory instances) {
        instances = new uint256[](length);
        for (uint256 i = 0; i < length; ++i) {
            instances[i] = uint256(keccak256(abi.encode(seed, i))) % FIELD;
        }
    }

    /// @dev A rejected proof: `isValidProof` says false and `requireValidProof` reverts by selector.
    function _assertRejected(uint256 modelId, bytes memory proof, uint256[] memory instances) internal {
        assertFalse(registry.isValidProof(modelId, proof, instances));
        vm.expectRevert(abi.encodeWithSelector(IZkmlModelRegistry.ZkmlRegistryProofRejected.selector, modelId));
        registry.requireValidProof(modelId, proof, instances);
    }

    // ---------------------------------------------------------------- registration

    function test_RegisterModel_AssignsSequentialIdsFromOne() public {
        assertEq(registry.modelCount(), 0);
        assertEq(_register(alice, verifier), 1);
        assertEq(_register(bob, verifier), 2);
        assertEq(registry.modelCount(), 2);
    }

    function test_RegisterModel_StoresConfigAndEmits() public {
        vm.expectEmit(address(registry));
        emit IZkmlModelRegistry.ModelRegistered(1, alice, verifier, COMMITMENT, 7, 7, GAS_LIMIT, new uint16[](0));
        uint256 modelId = _register(alice, verifier);

        Model memory m = registry.model(modelId);
        assertEq(address(m.verifier), address(verifier));
        assertEq(m.commitment, COMMITMENT);
        assertEq(m.inputScale, 7);
        assertEq(m.outputScale, 7);
        assertEq(m.verifyGasLimit, GAS_LIMIT);
        assertEq(uint8(m.status), uint8(ModelStatus.Active));
        assertEq(m.owner, alice);
        assertEq(m.commitmentIndices.length, 0);
    }

    function test_RegisterModel_StoresCommitmentIndicesAndEmits() public {
        uint16[] memory indices = _indices(12, 17);
        vm.expectEmit(address(registry));
        emit IZkmlModelRegistry.ModelRegistered(1, alice, verifier, COMMITMENT, 7, 7, GAS_LIMIT, indices);
        uint256 modelId = _registerCommitted(alice, verifier, indices);
        uint16[] memory stored = registry.model(modelId).commitmentIndices;
        assertEq(stored.length, 2);
        assertEq(stored[0], 12);
        assertEq(stored[1], 17);
    }

    function testFuzz_RegisterModel_StoresAnyValidConfig(
        bytes32 commitment,
        uint8 inputScale,
        uint8 outputScale,
        uint32 gasLimit
    ) public {
        commitment = bytes32(bound(uint256(commitment), 0, registry.SNARK_SCALAR_FIELD() - 1));
        inputScale = uint8(bound(inputScale, 0, registry.MAX_SCALE()));
        outputScale = uint8(bound(outputScale, 0, registry.MAX_SCALE()));
        gasLimit = uint32(bound(gasLimit, registry.MIN_VERIFY_GAS_LIMIT(), registry.MAX_VERIFY_GAS_LIMIT()));

        vm.prank(bob);
        uint256 modelId =
            registry.registerModel(ModelConfig(verifier, commitment, inputScale, outputScale, gasLimit, _indices(0)));

        Model memory m = registry.model(modelId);
        assertEq(m.commitment, commitment);
        assertEq(m.inputScale, inputScale);
        assertEq(m.outputScale, outputScale);
        assertEq(m.verifyGasLimit, gasLimit);
        assertEq(m.owner, bob);
        assertEq(m.commitmentIndices.length, 1);
    }

    function test_RevertsWhen_VerifierHasNoCode() public {
        vm.expectRevert(abi.encodeWithSelector(IZkmlModelRegistry.ZkmlRegistryInvalidVerifier.selector, address(0)));
        registry.registerModel(_config(IZkmlVerifier(address(0))));

        vm.expectRevert(abi.encodeWithSelector(IZkmlModelRegistry.ZkmlRegistryInvalidVerifier.selector, alice));
        registry.registerModel(_config(IZkmlVerifier(alice)));
    }

    function testFuzz_RevertsWhen_CommitmentIsNotAFieldElement(uint256 commitment) public {
        commitment = bound(commitment, registry.SNARK_SCALAR_FIELD(), type(uint256).max);
        ModelConfig memory config = _config(verifier);
        config.commitment = bytes32(commitment);
        vm.expectRevert(
            abi.encodeWithSelector(IZkmlModelRegistry.ZkmlRegistryInvalidCommitment.selector, bytes32(commitment))
        );
        registry.registerModel(config);
    }

    function testFuzz_RevertsWhen_ScaleTooLarge(uint8 scale, bool onInput) public {
        scale = uint8(bound(scale, uint256(registry.MAX_SCALE()) + 1, type(uint8).max));
        ModelConfig memory config = _config(verifier);
        if (onInput) config.inputScale = scale;
        else config.outputScale = scale;
        vm.expectRevert(abi.encodeWithSelector(IZkmlModelRegistry.ZkmlRegistryInvalidScale.selector, scale));
        registry.registerModel(config);
    }

    function testFuzz_RevertsWhen_GasLimitOutOfRange(uint32 gasLimit) public {
        vm.assume(gasLimit < registry.MIN_VERIFY_GAS_LIMIT() || gasLimit > registry.MAX_VERIFY_GAS_LIMIT());
        ModelConfig memory config = _config(verifier);
        config.verifyGasLimit = gasLimit;
        vm.expectRevert(abi.encodeWithSelector(IZkmlModelRegistry.ZkmlRegistryInvalidGasLimit.selector, gasLimit));
        registry.registerModel(config);
    }

    function test_RevertsWhen_TooManyCommitmentIndices() public {
        uint256 max = registry.MAX_COMMITMENT_INDICES();
        ModelConfig memory config = _config(verifier);
        config.commitmentIndices = _ascending(max + 1);
        vm.expectRevert(
            abi.encodeWithSelector(IZkmlModelRegistry.ZkmlRegistryTooManyCommitmentIndices.selector, max + 1, max)
        );
        registry.registerModel(config);

        config.commitmentIndices = _ascending(max);
        registry.registerModel(config);
    }

    function testFuzz_RevertsWhen_CommitmentIndicesNotStrictlyIncreasing(uint16 first, uint16 second) public {
        second = uint16(bound(second, 0, first));
        ModelConfig memory config = _config(verifier);
        config.commitmentIndices = _indices(first, second);
        vm.expectRevert(
            abi.encodeWithSelector(IZkmlModelRegistry.ZkmlRegistryUnorderedCommitmentIndex.selector, 1, second)
        );
        registry.registerModel(config);
    }

    function test_RevertsWhen_ReadingUnknownModel() public {
        vm.expectRevert(abi.encodeWithSelector(IZkmlModelRegistry.ZkmlRegistryUnknownModel.selector, 0));
        registry.model(0);
        _register(alice, verifier);
        vm.expectRevert(abi.encodeWithSelector(IZkmlModelRegistry.ZkmlRegistryUnknownModel.selector, 2));
        registry.model(2);
    }

    // ---------------------------------------------------------------- retirement (tombstones)

    function test_RetireModel_IsPermanentAndEmits() public {
        uint256 modelId = _register(alice, verifier);
        vm.expectEmit(address(registry));
        emit IZkmlModelRegistry.ModelRetired(modelId, alice);
        vm.prank(alice);
        registry.retireModel(modelId);
        assertEq(uint8(registry.model(modelId).status), uint8(ModelStatus.Retired));

        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IZkmlModelRegistry.ZkmlRegistryModelIsRetired.selector, modelId));
        registry.retireModel(modelId);
    }

    function test_RevertsWhen_NonOwnerRetires() public {
        uint256 modelId = _register(alice, verifier);
        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(IZkmlModelRegistry.ZkmlRegistryUnauthorized.selector, modelId, bob));
        registry.retireModel(modelId);
    }

    function test_RevertsWhen_RetiringUnknownModel() public {
        vm.expectRevert(abi.encodeWithSelector(IZkmlModelRegistry.ZkmlRegistryUnknownModel.selector, 42));
        registry.retireModel(42);
    }

    function test_RevertsWhen_VerifyingAgainstRetiredModel() public {
        uint256 modelId = _register(alice, verifier);
        uint256[] memory instances = _instances(1, 3);
        bytes memory proof = verifier.mockProof(instances);
        assertTrue(registry.isValidProof(modelId, proof, instances));

        vm.prank(alice);
        registry.retireModel(modelId);
        vm.expectRevert(abi.encodeWithSelector(IZkmlModelRegistry.ZkmlRegistryModelIsRetired.selector, modelId));
        registry.isValidProof(modelId, proof, instances);
        vm.expectRevert(abi.encodeWithSelector(IZkmlModelRegistry.ZkmlRegistryModelIsRetired.selector, modelId));
        registry.requireValidProof(modelId, proof, instances);
    }

    function testFuzz_RetiredIdsAreNeverReused(uint8 registrations, uint256 retireMask) public {
        registrations = uint8(bound(registrations, 1, 24));
        for (uint256 i = 0; i < registrations; ++i) {
            uint256 modelId = _register(alice, verifier);
            assertEq(modelId, i + 1, "ids are sequential");
            if ((retireMask >> i) & 1 == 1) {
                vm.prank(alice);
                registry.retireModel(modelId);
            }
        }
        uint256 next = _register(bob, verifier);
        assertEq(next, uint256(registrations) + 1, "a fresh id follows every retired one");
        for (uint256 i = 0; i < registrations; ++i) {
            Model memory m = registry.model(i + 1);
            assertEq(m.owner, alice, "an old id keeps its owner");
            ModelStatus expected = (retireMask >> i) & 1 == 1 ? ModelStatus.Retired : ModelStatus.Active;
            assertEq(uint8(m.status), uint8(expected));
        }
    }

    // ---------------------------------------------------------------- ownership

    function test_TransferModelOwnership_IsTwoStep() public {
        uint256 modelId = _register(alice, verifier);

        vm.expectEmit(address(registry));
        emit IZkmlModelRegistry.ModelOwnershipTransferStarted(modelId, alice, bob);
        vm.prank(alice);
        registry.transferModelOwnership(modelId, bob);
        assertEq(registry.pendingModelOwner(modelId), bob);
        assertEq(registry.model(modelId).owner, alice, "ownership moves only on accept");

        vm.expectEmit(address(registry));
        emit IZkmlModelRegistry.ModelOwnershipTransferred(modelId, alice, bob);
        vm.prank(bob);
        registry.acceptModelOwnership(modelId);
        assertEq(registry.model(modelId).owner, bob);
        assertEq(registry.pendingModelOwner(modelId), address(0));

        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IZkmlModelRegistry.ZkmlRegistryUnauthorized.selector, modelId, alice));
        registry.retireModel(modelId);
    }

    function testFuzz_RevertsWhen_NonPendingOwnerAccepts(address stranger) public {
        vm.assume(stranger != bob);
        uint256 modelId = _register(alice, verifier);
        vm.prank(alice);
        registry.transferModelOwnership(modelId, bob);
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(IZkmlModelRegistry.ZkmlRegistryUnauthorized.selector, modelId, stranger));
        registry.acceptModelOwnership(modelId);
    }

    function test_TransferToZeroCancelsPendingTransfer() public {
        uint256 modelId = _register(alice, verifier);
        vm.startPrank(alice);
        registry.transferModelOwnership(modelId, bob);
        registry.transferModelOwnership(modelId, address(0));
        vm.stopPrank();
        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(IZkmlModelRegistry.ZkmlRegistryUnauthorized.selector, modelId, bob));
        registry.acceptModelOwnership(modelId);
    }

    function test_RevertsWhen_NonOwnerTransfers() public {
        uint256 modelId = _register(alice, verifier);
        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(IZkmlModelRegistry.ZkmlRegistryUnauthorized.selector, modelId, bob));
        registry.transferModelOwnership(modelId, bob);
    }

    function test_RevertsWhen_AcceptingAfterRetirement() public {
        uint256 modelId = _register(alice, verifier);
        vm.startPrank(alice);
        registry.transferModelOwnership(modelId, bob);
        registry.retireModel(modelId);
        vm.stopPrank();
        assertEq(registry.pendingModelOwner(modelId), address(0), "retiring clears a pending transfer");
        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(IZkmlModelRegistry.ZkmlRegistryModelIsRetired.selector, modelId));
        registry.acceptModelOwnership(modelId);
    }

    // ---------------------------------------------------------------- verification

    function testFuzz_IsValidProof_AcceptsValidProof(uint256 seed, uint8 length) public {
        uint256 modelId = _register(alice, verifier);
        uint256[] memory instances = _instances(seed, bound(length, 0, 40));
        bytes memory proof = verifier.mockProof(instances);
        assertTrue(registry.isValidProof(modelId, proof, instances));
        registry.requireValidProof(modelId, proof, instances);
    }

    function testFuzz_RevertsWhen_ProofTampered(uint256 seed, uint256 byteIndex, uint8 flip) public {
        vm.assume(flip != 0);
        uint256 modelId = _register(alice, verifier);
        uint256[] memory instances = _instances(seed, 4);
        bytes memory proof = verifier.mockProof(instances);
        byteIndex = bound(byteIndex, 0, proof.length - 1);
        proof[byteIndex] = proof[byteIndex] ^ bytes1(flip);
        _assertRejected(modelId, proof, instances);
    }

    function testFuzz_RevertsWhen_InstanceTampered(uint256 seed, uint256 index, uint256 delta) public {
        delta = bound(delta, 1, type(uint128).max);
        uint256 modelId = _register(alice, verifier);
        uint256[] memory instances = _instances(seed, 4);
        bytes memory proof = verifier.mockProof(instances);
        index = bound(index, 0, instances.length - 1);
        instances[index] = (instances[index] + delta) % FIELD;
        _assertRejected(modelId, proof, instances);
    }

    function test_RevertsWhen_VerifyingUnknownModel() public {
        uint256[] memory instances = _instances(1, 1);
        vm.expectRevert(abi.encodeWithSelector(IZkmlModelRegistry.ZkmlRegistryUnknownModel.selector, 7));
        registry.isValidProof(7, "", instances);
    }

    function test_RevertingVerifierCountsAsRejection() public {
        uint256 modelId = _register(alice, new RevertingVerifier());
        assertFalse(registry.isValidProof(modelId, hex"00", _instances(1, 1)));
    }

    function test_MalformedReturnDataCountsAsRejection() public {
        bytes[5] memory payloads =
            [bytes(""), abi.encode(uint256(2)), abi.encode(true, true), abi.encodePacked(uint8(1)), new bytes(100_000)];
        for (uint256 i = 0; i < payloads.length; ++i) {
            uint256 modelId = _register(alice, IZkmlVerifier(address(new RawReturnVerifier(payloads[i]))));
            assertFalse(registry.isValidProof(modelId, hex"00", _instances(1, 1)), "malformed return accepted");
        }
        // The same double does pass with a well-formed `true`, so the cases above fail for the right reason.
        uint256 okId = _register(alice, IZkmlVerifier(address(new RawReturnVerifier(abi.encode(true)))));
        assertTrue(registry.isValidProof(okId, hex"00", _instances(1, 1)));
    }

    function testFuzz_GasBurningVerifierCostsAtMostItsLimit(uint32 gasLimit) public {
        gasLimit = uint32(bound(gasLimit, registry.MIN_VERIFY_GAS_LIMIT(), 5_000_000));
        ModelConfig memory config = _config(new GasBurningVerifier());
        config.verifyGasLimit = gasLimit;
        uint256 modelId = registry.registerModel(config);

        uint256 before = gasleft();
        bool valid = registry.isValidProof(modelId, hex"00", _instances(1, 2));
        uint256 used = before - gasleft();
        assertFalse(valid);
        assertLe(used, uint256(gasLimit) + REGISTRY_OVERHEAD, "a hostile verifier took more than its cap");
    }

    function test_RevertsWhen_CallerStarvesTheVerifier() public {
        uint256 modelId = _register(alice, new GasBurningVerifier());
        uint256[] memory instances = _instances(1, 2);
        // Too little gas for the verifier to get its limit: the registry must not report a rejection.
        (bool ok, bytes memory ret) = address(registry).call{gas: GAS_LIMIT / 2}(
            abi.encodeCall(registry.isValidProof, (modelId, hex"00", instances))
        );
        assertFalse(ok);
        assertEq(
            ret, abi.encodeWithSelector(IZkmlModelRegistry.ZkmlRegistryInsufficientGas.selector, modelId, GAS_LIMIT)
        );
    }

    function test_VerifierGetsItsFullLimit() public {
        // Needs roughly 280k gas: accepted under a 500k limit, rejected (not reverted) under the 120k minimum.
        GasHungryVerifier hungry = new GasHungryVerifier(2500);
        uint256 roomy = _register(alice, hungry);
        assertTrue(registry.isValidProof(roomy, hex"01", _instances(1, 1)));

        ModelConfig memory config = _config(hungry);
        config.verifyGasLimit = registry.MIN_VERIFY_GAS_LIMIT();
        uint256 tight = registry.registerModel(config);
        assertFalse(registry.isValidProof(tight, hex"01", _instances(1, 1)));
    }

    // ---------------------------------------------------------------- committed weights

    function testFuzz_CommittedModel_AcceptsItsCommitment(uint256 seed) public {
        uint256 modelId = _registerCommitted(alice, verifier, _indices(0));
        uint256[] memory instances = _instances(seed, 5);
        instances[0] = uint256(COMMITMENT);
        bytes memory proof = verifier.mockProof(instances);
        assertTrue(registry.isValidProof(modelId, proof, instances));
        registry.requireValidProof(modelId, proof, instances);
    }

    function testFuzz_RevertsWhen_CommitmentIsOfOtherWeights(uint256 seed, uint256 other) public {
        other = bound(other, 0, FIELD - 1);
        vm.assume(other != uint256(COMMITMENT));
        uint256 modelId = _registerCommitted(alice, verifier, _indices(0));
        uint256[] memory instances = _instances(seed, 5);
        instances[0] = other;
        bytes memory proof = verifier.mockProof(instances);
        // With committed weights the verifier cannot tell which weights were used: only the registry can.
        assertTrue(verifier.verifyProof(proof, instances));
        assertFalse(registry.isValidProof(modelId, proof, instances));
        vm.expectRevert(
            abi.encodeWithSelector(IZkmlModelRegistry.ZkmlRegistryCommitmentMismatch.selector, modelId, 0, other)
        );
        registry.requireValidProof(modelId, proof, instances);
    }

    function test_RevertsWhen_OneAggregatedSlotIsOfOtherWeights() public {
        // An aggregated verifier's instances: 12 accumulator limbs, then two inner proofs of 5 instances each.
        uint256 modelId = _registerCommitted(alice, verifier, _indices(12, 17));
        uint256[] memory instances = _instances(3, 22);
        instances[12] = uint256(COMMITMENT);
        instances[17] = uint256(COMMITMENT);
        assertTrue(registry.isValidProof(modelId, verifier.mockProof(instances), instances));

        uint256 other = uint256(COMMITMENT) + 1;
        instances[17] = other;
        bytes memory proof = verifier.mockProof(instances);
        assertFalse(registry.isValidProof(modelId, proof, instances));
        vm.expectRevert(
            abi.encodeWithSelector(IZkmlModelRegistry.ZkmlRegistryCommitmentMismatch.selector, modelId, 17, other)
        );
        registry.requireValidProof(modelId, proof, instances);
    }

    function test_RevertsWhen_CommitmentInstanceIsMissing() public {
        uint256 modelId = _registerCommitted(alice, verifier, _indices(4));
        uint256[] memory instances = _instances(1, 4);
        bytes memory proof = verifier.mockProof(instances);
        assertFalse(registry.isValidProof(modelId, proof, instances));
        vm.expectRevert(
            abi.encodeWithSelector(IZkmlModelRegistry.ZkmlRegistryCommitmentMissing.selector, modelId, 4, 4)
        );
        registry.requireValidProof(modelId, proof, instances);
    }

    function test_CommitmentMismatchIsCaughtBeforeTheVerifierRuns() public {
        uint256 modelId = _registerCommitted(alice, verifier, _indices(0));
        uint256[] memory instances = _instances(1, 3);
        vm.expectCall(address(verifier), abi.encodeCall(IZkmlVerifier.verifyProof, ("", instances)), 0);
        assertFalse(registry.isValidProof(modelId, "", instances));
    }

    function testFuzz_GasCapHoldsWithTheMostCommitmentIndices(uint32 gasLimit) public {
        gasLimit = uint32(bound(gasLimit, registry.MIN_VERIFY_GAS_LIMIT(), 5_000_000));
        uint256 count = registry.MAX_COMMITMENT_INDICES();
        ModelConfig memory config = _config(new GasBurningVerifier());
        config.verifyGasLimit = gasLimit;
        config.commitmentIndices = _ascending(count);
        uint256 modelId = registry.registerModel(config);
        uint256[] memory instances = _instances(1, count);
        for (uint256 i = 0; i < count; ++i) {
            instances[i] = uint256(COMMITMENT);
        }

        uint256 before = gasleft();
        bool valid = registry.isValidProof(modelId, hex"00", instances);
        uint256 used = before - gasleft();
        assertFalse(valid);
        assertLe(used, uint256(gasLimit) + REGISTRY_OVERHEAD, "the commitment check broke the gas cap");
    }
}
