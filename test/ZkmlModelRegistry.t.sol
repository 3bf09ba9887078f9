// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.24;

import {Test} from "forge-std/Test.sol";
import {ZkmlModelRegistry} from "../contracts/ZkmlModelRegistry.sol";
import {
    IZkmlModelRegistry,
    InferenceValues,
    InputVisibility,
    Model,
    ModelConfig,
    ModelStatus,
    OutputVisibility,
    PublicLayout,
    WeightVisibility
} from "../contracts/interfaces/IZkmlModelRegistry.sol";
import {IZkmlVerifier} from "../contracts/interfaces/IZkmlVerifier.sol";
import {ZkmlInstances} from "../contracts/libraries/ZkmlInstances.sol";
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
    /// @dev Bits of a packed instance, as `zkml-circuit` packs them.
    uint256 internal constant PACKED_BITS = 252;
    /// @dev The widest slot: one value per element.
    uint8 internal constant MAX_WIDTH = 252;
    /// @dev Gas the registry itself spends around the verifier call (ABI encoding, storage reads, checks).
    uint256 internal constant REGISTRY_OVERHEAD = 40_000;

    /// @dev The default layout: 20 inputs of 16 bits (15 per element: 2 elements), 30 outputs of 20 bits (12
    ///      per element: 3 elements), so both sections span several elements and the last one is partial.
    uint16 internal constant INPUT_COUNT = 20;
    uint8 internal constant INPUT_WIDTH = 16;
    uint16 internal constant OUTPUT_COUNT = 30;
    uint8 internal constant OUTPUT_WIDTH = 20;
    uint256 internal constant INPUT_ELEMENTS = 2;
    uint256 internal constant OUTPUT_ELEMENTS = 3;

    function setUp() public {
        registry = new ZkmlModelRegistry();
        verifier = new MockZkmlVerifier();
    }

    // ---------------------------------------------------------------- helpers

    function _layout() internal pure returns (PublicLayout memory) {
        return PublicLayout({
            weights: WeightVisibility.Fixed,
            input: InputVisibility.Public,
            output: OutputVisibility.Public,
            inputScale: 7,
            outputScale: 7,
            inputWidth: INPUT_WIDTH,
            outputWidth: OUTPUT_WIDTH,
            inputCount: INPUT_COUNT,
            outputCount: OUTPUT_COUNT
        });
    }

    function _committedLayout() internal pure returns (PublicLayout memory l) {
        l = _layout();
        l.weights = WeightVisibility.Committed;
    }

    function _config(IZkmlVerifier v) internal pure returns (ModelConfig memory) {
        return ModelConfig({verifier: v, commitment: COMMITMENT, verifyGasLimit: GAS_LIMIT, publicLayout: _layout()});
    }

    function _register(address owner, IZkmlVerifier v) internal returns (uint256 modelId) {
        vm.prank(owner);
        modelId = registry.registerModel(_config(v));
    }

    function _registerLayout(address owner, IZkmlVerifier v, PublicLayout memory l) internal returns (uint256 id) {
        ModelConfig memory config = _config(v);
        config.publicLayout = l;
        vm.prank(owner);
        id = registry.registerModel(config);
    }

    /// @dev A model with committed weights: its proofs must carry `COMMITMENT` as instance 0.
    function _registerCommitted(address owner, IZkmlVerifier v) internal returns (uint256 modelId) {
        return _registerLayout(owner, v, _committedLayout());
    }

    /// @dev A valid layout drawn from `seed`: any visibility, scale, width in [1, 252] and count in [1, 120]
    ///      (at most 1 + 120 + 120 instances, under the registry's 256).
    function _fuzzLayout(uint256 seed) internal pure returns (PublicLayout memory l) {
        l.weights = WeightVisibility(seed % 2);
        l.input = InputVisibility((seed >> 1) % 3);
        l.output = OutputVisibility((seed >> 3) % 2);
        // Every field below is reduced under its type's maximum first: the casts are exact.
        // forge-lint: disable-start(unsafe-typecast)
        l.inputScale = uint8((seed >> 8) % 65);
        l.outputScale = uint8((seed >> 16) % 65);
        l.inputWidth = uint8(1 + (seed >> 24) % PACKED_BITS);
        l.outputWidth = uint8(1 + (seed >> 32) % PACKED_BITS);
        l.inputCount = uint16(1 + (seed >> 40) % 120);
        l.outputCount = uint16(1 + (seed >> 48) % 120);
        // forge-lint: disable-end(unsafe-typecast)
    }

    /// @dev The instance count of a layout, written out from the circuit's packing rule (not the registry's).
    function _expectedInstances(PublicLayout memory l) internal pure returns (uint256 count) {
        if (l.weights == WeightVisibility.Committed) count += 1;
        if (l.input == InputVisibility.Public) {
            uint256 perElement = PACKED_BITS / l.inputWidth;
            count += (l.inputCount + perElement - 1) / perElement;
        } else if (l.input == InputVisibility.Hashed) {
            count += 1;
        }
        if (l.output == OutputVisibility.Public) {
            uint256 perElement = PACKED_BITS / l.outputWidth;
            count += (l.outputCount + perElement - 1) / perElement;
        } else {
            count += 1;
        }
    }

    /// @dev `count` signed values that fit a `width`-bit slot, drawn from `seed`, both ends of the range included.
    function _signed(uint256 seed, uint256 count, uint256 width) internal pure returns (int256[] memory values) {
        values = new int256[](count);
        int256 half = int256(uint256(1) << (width - 1));
        for (uint256 i = 0; i < count; ++i) {
            uint256 r = uint256(keccak256(abi.encode(seed, i)));
            // The extremes of the slot are where an off-by-one in the bias would show.
            if (i == 0) values[i] = -half;
            else if (i == 1) values[i] = half - 1;
            // Below 2**width <= 2**252: the cast is exact.
            // forge-lint: disable-next-line(unsafe-typecast)
            else values[i] = int256(r % (uint256(1) << width)) - half;
        }
    }

    /// @dev One Poseidon-hash-like word: any field element.
    function _hash(uint256 seed) internal pure returns (int256[] memory word) {
        word = new int256[](1);
        // Below the field modulus < 2**254: the cast is exact.
        // forge-lint: disable-next-line(unsafe-typecast)
        word[0] = int256(uint256(keccak256(abi.encode("hash", seed))) % FIELD);
    }

    /// @dev The values of one inference of a model with layout `l`: what a consumer hands the registry.
    function _valuesFor(PublicLayout memory l, uint256 seed) internal pure returns (InferenceValues memory v) {
        if (l.input == InputVisibility.Public) v.inputs = _signed(seed, l.inputCount, l.inputWidth);
        else if (l.input == InputVisibility.Hashed) v.inputs = _hash(seed);
        if (l.output == OutputVisibility.Public) v.outputs = _signed(~seed, l.outputCount, l.outputWidth);
        else v.outputs = _hash(~seed);
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
        emit IZkmlModelRegistry.ModelRegistered(1, alice, verifier, COMMITMENT, GAS_LIMIT, _layout());
        uint256 modelId = _register(alice, verifier);

        Model memory m = registry.model(modelId);
        assertEq(address(m.verifier), address(verifier));
        assertEq(m.commitment, COMMITMENT);
        assertEq(m.verifyGasLimit, GAS_LIMIT);
        assertEq(uint8(m.status), uint8(ModelStatus.Active));
        assertEq(m.owner, alice);
        assertEq(abi.encode(m.publicLayout), abi.encode(_layout()));
    }

    function testFuzz_RegisterModel_StoresAnyValidConfig(bytes32 commitment, uint32 gasLimit, uint256 layoutSeed)
        public
    {
        commitment = bytes32(bound(uint256(commitment), 0, registry.SNARK_SCALAR_FIELD() - 1));
        gasLimit = uint32(bound(gasLimit, registry.MIN_VERIFY_GAS_LIMIT(), registry.MAX_VERIFY_GAS_LIMIT()));
        PublicLayout memory l = _fuzzLayout(layoutSeed);

        vm.prank(bob);
        uint256 modelId = registry.registerModel(ModelConfig(verifier, commitment, gasLimit, l));

        Model memory m = registry.model(modelId);
        assertEq(m.commitment, commitment);
        assertEq(m.verifyGasLimit, gasLimit);
        assertEq(m.owner, bob);
        assertEq(abi.encode(m.publicLayout), abi.encode(l));
        assertEq(registry.numInstances(modelId), _expectedInstances(l));
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
        if (onInput) config.publicLayout.inputScale = scale;
        else config.publicLayout.outputScale = scale;
        vm.expectRevert(abi.encodeWithSelector(IZkmlModelRegistry.ZkmlRegistryInvalidScale.selector, scale));
        registry.registerModel(config);

        // The largest scale itself is fine.
        if (onInput) config.publicLayout.inputScale = registry.MAX_SCALE();
        else config.publicLayout.outputScale = registry.MAX_SCALE();
        registry.registerModel(config);
    }

    function testFuzz_RevertsWhen_GasLimitOutOfRange(uint32 gasLimit) public {
        vm.assume(gasLimit < registry.MIN_VERIFY_GAS_LIMIT() || gasLimit > registry.MAX_VERIFY_GAS_LIMIT());
        ModelConfig memory config = _config(verifier);
        config.verifyGasLimit = gasLimit;
        vm.expectRevert(abi.encodeWithSelector(IZkmlModelRegistry.ZkmlRegistryInvalidGasLimit.selector, gasLimit));
        registry.registerModel(config);
    }

    /// @dev A slot width of zero packs nothing and one over 252 bits overflows an element, for a public
    ///      section and for a hashed one (its values are packed under the hash with the same width).
    function testFuzz_RevertsWhen_SlotWidthInvalid(uint8 width, bool onInput, bool hashed) public {
        width = width % 4 == 0 ? 0 : uint8(bound(width, PACKED_BITS + 1, type(uint8).max));
        ModelConfig memory config = _config(verifier);
        uint16 count;
        if (onInput) {
            config.publicLayout.inputWidth = width;
            if (hashed) config.publicLayout.input = InputVisibility.Hashed;
            count = config.publicLayout.inputCount;
        } else {
            config.publicLayout.outputWidth = width;
            if (hashed) config.publicLayout.output = OutputVisibility.Hashed;
            count = config.publicLayout.outputCount;
        }
        vm.expectRevert(abi.encodeWithSelector(IZkmlModelRegistry.ZkmlRegistryInvalidLayout.selector, width, count));
        registry.registerModel(config);
    }

    function testFuzz_RevertsWhen_SectionHasNoValues(bool onInput, bool hashed) public {
        ModelConfig memory config = _config(verifier);
        uint8 width;
        if (onInput) {
            config.publicLayout.inputCount = 0;
            if (hashed) config.publicLayout.input = InputVisibility.Hashed;
            width = config.publicLayout.inputWidth;
        } else {
            config.publicLayout.outputCount = 0;
            if (hashed) config.publicLayout.output = OutputVisibility.Hashed;
            width = config.publicLayout.outputWidth;
        }
        vm.expectRevert(abi.encodeWithSelector(IZkmlModelRegistry.ZkmlRegistryInvalidLayout.selector, width, 0));
        registry.registerModel(config);
    }

    /// @dev Private inputs have no section in the artifact's layout, so the registry takes no width or count.
    function test_PrivateInputsNeedNoInputSection() public {
        PublicLayout memory l = _layout();
        l.input = InputVisibility.Private;
        l.inputWidth = 0;
        l.inputCount = 0;
        uint256 modelId = _registerLayout(alice, verifier, l);
        assertEq(registry.numInstances(modelId), OUTPUT_ELEMENTS);
    }

    /// @dev The widest slot, one value per element, is a valid layout.
    function test_RegisterModel_AcceptsTheWidestSlot() public {
        PublicLayout memory l = _layout();
        l.inputWidth = MAX_WIDTH;
        l.outputWidth = MAX_WIDTH;
        uint256 modelId = _registerLayout(alice, verifier, l);
        assertEq(registry.numInstances(modelId), uint256(INPUT_COUNT) + OUTPUT_COUNT);
    }

    function test_RevertsWhen_TooManyInstances() public {
        uint256 max = registry.MAX_MODEL_INSTANCES();
        // One value per element: max - 1 inputs and one output fill exactly `max` instances.
        PublicLayout memory l = _layout();
        l.inputWidth = MAX_WIDTH;
        l.outputWidth = MAX_WIDTH;
        // `max` is 256: the casts are exact.
        // forge-lint: disable-next-line(unsafe-typecast)
        l.inputCount = uint16(max - 1);
        l.outputCount = 1;
        assertEq(registry.numInstances(_registerLayout(alice, verifier, l)), max);

        // The commitment counts too.
        l.weights = WeightVisibility.Committed;
        ModelConfig memory config = _config(verifier);
        config.publicLayout = l;
        vm.expectRevert(abi.encodeWithSelector(IZkmlModelRegistry.ZkmlRegistryTooManyInstances.selector, max + 1, max));
        registry.registerModel(config);

        l.weights = WeightVisibility.Fixed;
        l.outputCount = 2;
        config.publicLayout = l;
        vm.expectRevert(abi.encodeWithSelector(IZkmlModelRegistry.ZkmlRegistryTooManyInstances.selector, max + 1, max));
        registry.registerModel(config);
    }

    /// @dev Every visibility combination, counted by hand: commitment 1, public inputs 2 elements, hashed
    ///      inputs 1, private inputs 0, public outputs 3 elements, hashed outputs 1.
    function test_NumInstances_EachVisibilityCombination() public {
        uint256[3] memory inputElements = [INPUT_ELEMENTS, 1, 0];
        uint256[2] memory outputElements = [OUTPUT_ELEMENTS, 1];
        for (uint256 w = 0; w < 2; ++w) {
            for (uint256 i = 0; i < 3; ++i) {
                for (uint256 o = 0; o < 2; ++o) {
                    PublicLayout memory l = _layout();
                    l.weights = WeightVisibility(w);
                    l.input = InputVisibility(i);
                    l.output = OutputVisibility(o);
                    uint256 modelId = _registerLayout(alice, verifier, l);
                    assertEq(registry.numInstances(modelId), w + inputElements[i] + outputElements[o]);
                    // The instances the registry builds have that length.
                    assertEq(
                        registry.inferenceInstances(modelId, _valuesFor(l, modelId)).length,
                        w + inputElements[i] + outputElements[o]
                    );
                }
            }
        }
    }

    function test_RevertsWhen_ReadingUnknownModel() public {
        vm.expectRevert(abi.encodeWithSelector(IZkmlModelRegistry.ZkmlRegistryUnknownModel.selector, 0));
        registry.model(0);
        _register(alice, verifier);
        vm.expectRevert(abi.encodeWithSelector(IZkmlModelRegistry.ZkmlRegistryUnknownModel.selector, 2));
        registry.model(2);
        vm.expectRevert(abi.encodeWithSelector(IZkmlModelRegistry.ZkmlRegistryUnknownModel.selector, 2));
        registry.numInstances(2);
        vm.expectRevert(abi.encodeWithSelector(IZkmlModelRegistry.ZkmlRegistryUnknownModel.selector, 2));
        registry.inferenceInstances(2, _valuesFor(_layout(), 1));
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
        InferenceValues memory values = _valuesFor(_layout(), 1);
        bytes memory inferenceProof = verifier.mockProof(registry.inferenceInstances(modelId, values));
        registry.requireValidInference(modelId, inferenceProof, values);

        vm.prank(alice);
        registry.retireModel(modelId);
        vm.expectRevert(abi.encodeWithSelector(IZkmlModelRegistry.ZkmlRegistryModelIsRetired.selector, modelId));
        registry.isValidProof(modelId, proof, instances);
        vm.expectRevert(abi.encodeWithSelector(IZkmlModelRegistry.ZkmlRegistryModelIsRetired.selector, modelId));
        registry.requireValidProof(modelId, proof, instances);
        vm.expectRevert(abi.encodeWithSelector(IZkmlModelRegistry.ZkmlRegistryModelIsRetired.selector, modelId));
        registry.requireValidInference(modelId, inferenceProof, values);
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

    // ---------------------------------------------------------------- verification of given instances

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
        vm.expectRevert(abi.encodeWithSelector(IZkmlModelRegistry.ZkmlRegistryUnknownModel.selector, 7));
        registry.requireValidInference(7, "", _valuesFor(_layout(), 1));
    }

    function test_RevertingVerifierCountsAsRejection() public {
        uint256 modelId = _register(alice, new RevertingVerifier());
        assertFalse(registry.isValidProof(modelId, hex"00", _instances(1, 1)));
        vm.expectRevert(abi.encodeWithSelector(IZkmlModelRegistry.ZkmlRegistryProofRejected.selector, modelId));
        registry.requireValidInference(modelId, hex"00", _valuesFor(_layout(), 1));
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
        GasBurningVerifier burner = new GasBurningVerifier();
        uint256 modelId = _register(alice, burner);
        uint256[] memory instances = _instances(1, 2);
        // Too little gas for the verifier to get its limit: the registry must not report a rejection.
        (bool ok, bytes memory ret) = address(registry).call{gas: GAS_LIMIT / 2}(
            abi.encodeCall(registry.isValidProof, (modelId, hex"00", instances))
        );
        assertFalse(ok);
        bytes memory insufficient =
            abi.encodeWithSelector(IZkmlModelRegistry.ZkmlRegistryInsufficientGas.selector, address(burner), GAS_LIMIT);
        assertEq(ret, insufficient);

        (ok, ret) = address(registry).call{gas: GAS_LIMIT / 2}(
            abi.encodeCall(registry.requireValidInference, (modelId, hex"00", _valuesFor(_layout(), 1)))
        );
        assertFalse(ok);
        assertEq(ret, insufficient);
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
        uint256 modelId = _registerCommitted(alice, verifier);
        uint256[] memory instances = _instances(seed, 5);
        instances[0] = uint256(COMMITMENT);
        bytes memory proof = verifier.mockProof(instances);
        assertTrue(registry.isValidProof(modelId, proof, instances));
        registry.requireValidProof(modelId, proof, instances);
    }

    function testFuzz_RevertsWhen_CommitmentIsOfOtherWeights(uint256 seed, uint256 other) public {
        other = bound(other, 0, FIELD - 1);
        vm.assume(other != uint256(COMMITMENT));
        uint256 modelId = _registerCommitted(alice, verifier);
        uint256[] memory instances = _instances(seed, 5);
        instances[0] = other;
        bytes memory proof = verifier.mockProof(instances);
        // With committed weights the verifier cannot tell which weights were used: only the registry can.
        assertTrue(verifier.verifyProof(proof, instances));
        assertFalse(registry.isValidProof(modelId, proof, instances));
        vm.expectRevert(
            abi.encodeWithSelector(IZkmlModelRegistry.ZkmlRegistryCommitmentMismatch.selector, modelId, other)
        );
        registry.requireValidProof(modelId, proof, instances);
    }

    /// @dev The commitment is instance 0 and nowhere else: the same value elsewhere does not count.
    function test_RevertsWhen_CommitmentIsNotInstanceZero() public {
        uint256 modelId = _registerCommitted(alice, verifier);
        uint256[] memory instances = _instances(2, 5);
        instances[1] = uint256(COMMITMENT);
        bytes memory proof = verifier.mockProof(instances);
        assertFalse(registry.isValidProof(modelId, proof, instances));
        vm.expectRevert(
            abi.encodeWithSelector(IZkmlModelRegistry.ZkmlRegistryCommitmentMismatch.selector, modelId, instances[0])
        );
        registry.requireValidProof(modelId, proof, instances);
    }

    function test_RevertsWhen_CommitmentInstanceIsMissing() public {
        uint256 modelId = _registerCommitted(alice, verifier);
        uint256[] memory instances = new uint256[](0);
        bytes memory proof = verifier.mockProof(instances);
        assertTrue(verifier.verifyProof(proof, instances), "the verifier alone would accept");
        assertFalse(registry.isValidProof(modelId, proof, instances));
        vm.expectRevert(abi.encodeWithSelector(IZkmlModelRegistry.ZkmlRegistryCommitmentMissing.selector, modelId));
        registry.requireValidProof(modelId, proof, instances);
    }

    function test_CommitmentMismatchIsCaughtBeforeTheVerifierRuns() public {
        uint256 modelId = _registerCommitted(alice, verifier);
        uint256[] memory instances = _instances(1, 3);
        vm.expectCall(address(verifier), abi.encodeCall(IZkmlVerifier.verifyProof, ("", instances)), 0);
        assertFalse(registry.isValidProof(modelId, "", instances));
        vm.expectRevert(
            abi.encodeWithSelector(IZkmlModelRegistry.ZkmlRegistryCommitmentMismatch.selector, modelId, instances[0])
        );
        registry.requireValidProof(modelId, "", instances);
    }

    /// @dev With fixed weights the verifying key pins the model: instance 0 is an ordinary instance.
    function test_FixedWeightsModelTakesAnyInstanceZero() public {
        uint256 modelId = _register(alice, verifier);
        uint256[] memory instances = _instances(3, 2);
        assertTrue(instances[0] != uint256(COMMITMENT));
        assertTrue(registry.isValidProof(modelId, verifier.mockProof(instances), instances));
    }

    // ---------------------------------------------------------------- instances from values

    /// @dev The registry packs exactly what `ZkmlInstances.unpack` (the layout's reader) decodes back, with
    ///      the commitment first for committed weights.
    function testFuzz_InferenceInstances_RoundTripThroughUnpack(uint256 layoutSeed, uint256 valueSeed) public {
        PublicLayout memory l = _fuzzLayout(layoutSeed);
        l.input = InputVisibility.Public;
        l.output = OutputVisibility.Public;
        uint256 modelId = _registerLayout(alice, verifier, l);
        InferenceValues memory values = _valuesFor(l, valueSeed);

        uint256[] memory words = registry.inferenceInstances(modelId, values);
        assertEq(words.length, registry.numInstances(modelId));
        uint256 offset;
        if (l.weights == WeightVisibility.Committed) {
            assertEq(words[0], uint256(COMMITMENT), "the commitment is instance 0");
            offset = 1;
        }
        assertEq(ZkmlInstances.unpack(words, offset, l.inputCount, l.inputWidth), values.inputs);
        offset += ZkmlInstances.packedElements(l.inputCount, l.inputWidth);
        assertEq(ZkmlInstances.unpack(words, offset, l.outputCount, l.outputWidth), values.outputs);
        assertEq(offset + ZkmlInstances.packedElements(l.outputCount, l.outputWidth), words.length);
        for (uint256 i = 0; i < words.length; ++i) {
            // 252 packed bits stay below the modulus: every word is a canonical field element.
            assertLt(words[i], FIELD);
        }
    }

    /// @dev One slot's bits, by hand: value v of width W sits at bit W*i of its element as v + 2^(W-1).
    function test_InferenceInstances_PackLeastSignificantSlotFirst() public {
        PublicLayout memory l = _layout();
        l.inputWidth = 8;
        l.inputCount = 3;
        l.outputWidth = 126;
        l.outputCount = 3;
        uint256 modelId = _registerLayout(alice, verifier, l);
        InferenceValues memory values;
        values.inputs = new int256[](3);
        values.inputs[0] = -128;
        values.inputs[1] = 0;
        values.inputs[2] = 127;
        values.outputs = new int256[](3);
        values.outputs[0] = -1;
        values.outputs[1] = 1;
        values.outputs[2] = 5;
        uint256[] memory words = registry.inferenceInstances(modelId, values);
        assertEq(words.length, 3);
        assertEq(words[0], 0x00 | (0x80 << 8) | (0xff << 16));
        uint256 half = uint256(1) << 125;
        assertEq(words[1], (half - 1) | ((half + 1) << 126));
        assertEq(words[2], half + 5);
    }

    /// @dev A hashed section is its one word, as given; private inputs add nothing.
    function test_InferenceInstances_HashedAndPrivateSections() public {
        PublicLayout memory l = _committedLayout();
        l.input = InputVisibility.Hashed;
        l.output = OutputVisibility.Hashed;
        uint256 hashed = _registerLayout(alice, verifier, l);
        InferenceValues memory values = _valuesFor(l, 9);
        uint256[] memory words = registry.inferenceInstances(hashed, values);
        assertEq(words.length, 3);
        assertEq(words[0], uint256(COMMITMENT));
        assertEq(words[1], uint256(values.inputs[0]));
        assertEq(words[2], uint256(values.outputs[0]));

        l.input = InputVisibility.Private;
        uint256 privateInputs = _registerLayout(alice, verifier, l);
        values.inputs = new int256[](0);
        words = registry.inferenceInstances(privateInputs, values);
        assertEq(words.length, 2);
        assertEq(words[0], uint256(COMMITMENT));
        assertEq(words[1], uint256(values.outputs[0]));
    }

    function testFuzz_RevertsWhen_WrongValueCount(uint256 visibilitySeed, uint8 given, bool outputs) public {
        PublicLayout memory l = _layout();
        l.input = InputVisibility(visibilitySeed % 3);
        l.output = OutputVisibility((visibilitySeed >> 2) % 2);
        uint256 modelId = _registerLayout(alice, verifier, l);
        InferenceValues memory values = _valuesFor(l, 1);

        uint256 expected = outputs
            ? (l.output == OutputVisibility.Public ? OUTPUT_COUNT : 1)
            : (l.input == InputVisibility.Public ? INPUT_COUNT : (l.input == InputVisibility.Hashed ? 1 : 0));
        vm.assume(given != expected);
        // Values in range, so only the count can be wrong.
        if (outputs) values.outputs = new int256[](given);
        else values.inputs = new int256[](given);

        bytes memory wrongCount = abi.encodeWithSelector(
            IZkmlModelRegistry.ZkmlRegistryWrongValueCount.selector, modelId, outputs, uint256(given), expected
        );
        vm.expectRevert(wrongCount);
        registry.inferenceInstances(modelId, values);
        vm.expectRevert(wrongCount);
        registry.requireValidInference(modelId, "", values);
    }

    function testFuzz_RevertsWhen_ValueOutsideItsSlot(uint256 index, uint256 excess, bool above, bool outputs) public {
        uint256 modelId = _register(alice, verifier);
        InferenceValues memory values = _valuesFor(_layout(), 2);
        uint256 width = outputs ? OUTPUT_WIDTH : INPUT_WIDTH;
        int256[] memory section = outputs ? values.outputs : values.inputs;
        index = bound(index, 0, section.length - 1);
        // A value past either end of the signed slot [-2^(W-1), 2^(W-1)) by 1 up to 2^200.
        int256 half = int256(uint256(1) << (width - 1));
        // Below 2**200: the cast is exact.
        // forge-lint: disable-next-line(unsafe-typecast)
        int256 past = int256(bound(excess, 1, uint256(1) << 200));
        section[index] = above ? half - 1 + past : -half - past;

        bytes memory outOfRange =
            abi.encodeWithSelector(ZkmlInstances.ZkmlInstancesValueOutOfRange.selector, index, section[index], width);
        vm.expectRevert(outOfRange);
        registry.inferenceInstances(modelId, values);
        vm.expectRevert(outOfRange);
        registry.requireValidInference(modelId, "", values);
    }

    function testFuzz_RevertsWhen_HashIsNotAFieldElement(int256 value, bool outputs) public {
        // Non-negative when cast: the cast is exact.
        // forge-lint: disable-next-line(unsafe-typecast)
        vm.assume(value < 0 || uint256(value) >= FIELD);
        PublicLayout memory l = _layout();
        l.input = InputVisibility.Hashed;
        l.output = OutputVisibility.Hashed;
        uint256 modelId = _registerLayout(alice, verifier, l);
        InferenceValues memory values = _valuesFor(l, 3);
        if (outputs) values.outputs[0] = value;
        else values.inputs[0] = value;

        bytes memory invalidHash =
            abi.encodeWithSelector(IZkmlModelRegistry.ZkmlRegistryInvalidHash.selector, modelId, value);
        vm.expectRevert(invalidHash);
        registry.inferenceInstances(modelId, values);
        vm.expectRevert(invalidHash);
        registry.requireValidInference(modelId, "", values);

        // Both ends of the field are hashes.
        values.inputs[0] = 0;
        // The modulus minus one is below 2**254: the cast is exact.
        // forge-lint: disable-next-line(unsafe-typecast)
        values.outputs[0] = int256(FIELD - 1);
        registry.inferenceInstances(modelId, values);
    }

    function testFuzz_RequireValidInference_AcceptsAProofOfItsInstances(uint256 layoutSeed, uint256 valueSeed) public {
        PublicLayout memory l = _fuzzLayout(layoutSeed);
        uint256 modelId = _registerLayout(alice, verifier, l);
        InferenceValues memory values = _valuesFor(l, valueSeed);
        uint256[] memory words = registry.inferenceInstances(modelId, values);
        bytes memory proof = verifier.mockProof(words);
        vm.expectCall(address(verifier), abi.encodeCall(IZkmlVerifier.verifyProof, (proof, words)), 1);
        registry.requireValidInference(modelId, proof, values);
    }

    function testFuzz_RevertsWhen_InferenceValueTampered(uint256 index, bool outputs) public {
        uint256 modelId = _register(alice, verifier);
        InferenceValues memory values = _valuesFor(_layout(), 4);
        bytes memory proof = verifier.mockProof(registry.inferenceInstances(modelId, values));
        int256[] memory section = outputs ? values.outputs : values.inputs;
        index = bound(index, 0, section.length - 1);
        // Toward zero, so the value stays inside its slot and only the proof can catch it.
        section[index] += section[index] < 0 ? int256(1) : -1;
        vm.expectRevert(abi.encodeWithSelector(IZkmlModelRegistry.ZkmlRegistryProofRejected.selector, modelId));
        registry.requireValidInference(modelId, proof, values);
    }

    /// @dev The registry writes the commitment itself: a proof of other weights (a valid proof of instances
    ///      with another instance 0) cannot pass as the model's inference.
    function test_RevertsWhen_InferenceIsOfOtherWeights() public {
        uint256 modelId = _registerCommitted(alice, verifier);
        InferenceValues memory values = _valuesFor(_committedLayout(), 5);
        uint256[] memory words = registry.inferenceInstances(modelId, values);
        assertEq(words[0], uint256(COMMITMENT));
        registry.requireValidInference(modelId, verifier.mockProof(words), values);

        words[0] = uint256(COMMITMENT) + 1;
        bytes memory otherWeights = verifier.mockProof(words);
        vm.expectRevert(abi.encodeWithSelector(IZkmlModelRegistry.ZkmlRegistryProofRejected.selector, modelId));
        registry.requireValidInference(modelId, otherWeights, values);
    }

    /// @dev Gas `requireValidInference` uses on `modelId`'s inference, the call data encoded beforehand.
    function _inferenceGas(uint256 modelId, bytes memory proof, InferenceValues memory values)
        internal
        view
        returns (bool accepted, uint256 used)
    {
        bytes memory data = abi.encodeCall(registry.requireValidInference, (modelId, proof, values));
        address target = address(registry);
        uint256 before = gasleft();
        // In place: Solidity's `staticcall(data)` would first copy the call data, and that copy's memory
        // expansion grows with everything the test allocated before.
        assembly ("memory-safe") {
            accepted := staticcall(gas(), target, add(data, 0x20), mload(data), 0, 0)
        }
        used = before - gasleft();
    }

    /// forge-config: default.fuzz.runs = 32
    /// @dev The largest layout the registry takes, 256 instances: however much packing the values costs, a
    ///      gas-burning verifier adds at most its limit to it (measured against a verifier that costs nothing).
    function testFuzz_GasCapHoldsWithTheLargestLayout(uint32 gasLimit) public {
        gasLimit = uint32(bound(gasLimit, registry.MIN_VERIFY_GAS_LIMIT(), 5_000_000));
        PublicLayout memory l = _committedLayout();
        // 16-bit slots (15 per element): 15 * 200 inputs and 15 * 55 outputs fill 1 + 200 + 55 = 256 instances.
        l.inputCount = 3000;
        l.outputWidth = 16;
        l.outputCount = 825;
        ModelConfig memory config = _config(new GasBurningVerifier());
        config.verifyGasLimit = gasLimit;
        config.publicLayout = l;
        uint256 burning = registry.registerModel(config);
        assertEq(registry.numInstances(burning), registry.MAX_MODEL_INSTANCES());
        config.verifier = IZkmlVerifier(address(new RawReturnVerifier(abi.encode(true))));
        uint256 free = registry.registerModel(config);
        InferenceValues memory values = _valuesFor(l, 6);

        (bool accepted, uint256 baseline) = _inferenceGas(free, hex"00", values);
        assertTrue(accepted);
        (accepted,) = _inferenceGas(burning, hex"00", values);
        assertFalse(accepted);
        (, uint256 used) = _inferenceGas(burning, hex"00", values);
        // The baseline paid for the first (cold) reads of its model and verifier: the slack is generous.
        assertLe(used, baseline + gasLimit + 10_000, "a hostile verifier took more than its cap");
    }

    /// @dev EIP-7825 caps a transaction at 2**24 gas, the reason `MAX_VERIFY_GAS_LIMIT` refuses verifiers that
    ///      need more. The same must hold for a registrable layout: packing costs gas per value, not per
    ///      instance, so with 1-bit slots 256 instances would hold 64,260 values (about 5.5e7 gas to pack).
    ///      `MAX_PUBLIC_VALUES` bounds the values; the largest layout it allows packs in a fraction of 2**24.
    function test_RegistrableLayoutsCanBeVerifiedInOneTransaction() public {
        uint256 max = registry.MAX_PUBLIC_VALUES();
        PublicLayout memory l = _layout();
        l.inputWidth = 1;
        l.outputWidth = 1;
        // `max` is 4096: the casts are exact.
        // forge-lint: disable-next-line(unsafe-typecast)
        l.inputCount = uint16(max - 1);
        l.outputCount = 1;
        uint256 modelId = _registerLayout(alice, verifier, l);

        InferenceValues memory values;
        values.inputs = new int256[](l.inputCount);
        values.outputs = new int256[](1);
        bytes memory proof = verifier.mockProof(registry.inferenceInstances(modelId, values));
        (bool accepted, uint256 used) = _inferenceGas(modelId, proof, values);
        assertTrue(accepted);
        emit log_named_uint("requireValidInference gas, 4,096 one-bit values", used);
        assertLe(used, 4_000_000, "packing the largest registrable layout leaves too little of 2**24");
    }

    function test_RevertsWhen_TooManyPublicValues() public {
        uint256 max = registry.MAX_PUBLIC_VALUES();
        PublicLayout memory l = _layout();
        l.inputWidth = 1;
        l.outputWidth = 1;
        // forge-lint: disable-next-line(unsafe-typecast)
        l.inputCount = uint16(max);
        l.outputCount = 1;
        ModelConfig memory config = _config(verifier);
        config.publicLayout = l;
        vm.expectRevert(
            abi.encodeWithSelector(IZkmlModelRegistry.ZkmlRegistryTooManyPublicValues.selector, max + 1, max)
        );
        registry.registerModel(config);

        // A hashed input section is one value, however many inputs the model reads.
        l.input = InputVisibility.Hashed;
        config.publicLayout = l;
        registry.registerModel(config);
    }
}
