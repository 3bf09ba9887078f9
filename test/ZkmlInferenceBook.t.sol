// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.24;

import {Test} from "forge-std/Test.sol";

import {ZkmlFixtures} from "./utils/ZkmlFixtures.sol";
import {GasBurningVerifier} from "./mocks/HostileVerifiers.sol";

import {ZkmlInferenceBook} from "../contracts/ZkmlInferenceBook.sol";
import {ZkmlModelRegistry} from "../contracts/ZkmlModelRegistry.sol";
import {IZkmlInferenceBook} from "../contracts/interfaces/IZkmlInferenceBook.sol";
import {
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
import {ZkmlInstances} from "../contracts/libraries/ZkmlInstances.sol";
import {MockZkmlVerifier} from "../contracts/test/MockZkmlVerifier.sol";
import {Halo2VerifierAdapter} from "../contracts/verifiers/Halo2VerifierAdapter.sol";

/// @notice The book's logic with the mock verifier: ids, records, idempotence, retirement, hashed sections,
///         batches, the gas cap.
contract ZkmlInferenceBookTest is Test {
    ZkmlModelRegistry internal registry;
    ZkmlInferenceBook internal book;
    MockZkmlVerifier internal verifier;

    address internal alice = makeAddr("alice");
    address internal bob = makeAddr("bob");

    uint32 internal constant GAS_LIMIT = 500_000;
    uint8 internal constant WIDTH = 17;
    uint16 internal constant INPUTS = 12;
    uint16 internal constant OUTPUTS = 5;
    /// @dev Gas the book and the registry spend around the verifier (packing, hashing, storage, event).
    uint256 internal constant BOOK_OVERHEAD = 90_000;

    function setUp() public {
        registry = new ZkmlModelRegistry();
        book = new ZkmlInferenceBook(registry);
        verifier = new MockZkmlVerifier();
    }

    function _layout(InputVisibility input, OutputVisibility output) internal pure returns (PublicLayout memory) {
        return PublicLayout({
            weights: WeightVisibility.Fixed,
            input: input,
            output: output,
            inputScale: 12,
            outputScale: 12,
            inputWidth: WIDTH,
            outputWidth: WIDTH,
            inputCount: INPUTS,
            outputCount: OUTPUTS
        });
    }

    function _register(address owner, IZkmlVerifier v, PublicLayout memory publicLayout)
        internal
        returns (uint256 modelId)
    {
        vm.prank(owner);
        modelId = registry.registerModel(
            ModelConfig({
                verifier: v, commitment: bytes32(uint256(7)), verifyGasLimit: GAS_LIMIT, publicLayout: publicLayout
            })
        );
    }

    function _registerPublic(address owner) internal returns (uint256) {
        return _register(owner, verifier, _layout(InputVisibility.Public, OutputVisibility.Public));
    }

    function _values(uint256 seed, uint256 inputs, uint256 outputs)
        internal
        pure
        returns (InferenceValues memory values)
    {
        values.inputs = new int256[](inputs);
        values.outputs = new int256[](outputs);
        for (uint256 i = 0; i < inputs; ++i) {
            values.inputs[i] = _slotValue(keccak256(abi.encode(seed, "in", i)));
        }
        for (uint256 i = 0; i < outputs; ++i) {
            values.outputs[i] = _slotValue(keccak256(abi.encode(seed, "out", i)));
        }
    }

    /// @dev A value in the signed range of a `WIDTH`-bit slot.
    function _slotValue(bytes32 entropy) internal pure returns (int256) {
        uint256 span = uint256(1) << WIDTH;
        // Below 2^WIDTH, so the casts are exact.
        // forge-lint: disable-next-line(unsafe-typecast)
        return int256(uint256(entropy) % span) - int256(span / 2);
    }

    function _proof(uint256 modelId, InferenceValues memory values) internal view returns (bytes memory) {
        return verifier.mockProof(registry.inferenceInstances(modelId, values));
    }

    function testFuzz_Attest_RecordsTheInference(uint256 seed) public {
        uint256 modelId = _registerPublic(alice);
        InferenceValues memory values = _values(seed, INPUTS, OUTPUTS);
        bytes32 expectedId = keccak256(abi.encode(modelId, values.inputs, values.outputs));
        assertFalse(book.isAttested(modelId, values));

        bytes memory proof = _proof(modelId, values);
        vm.roll(42);
        vm.expectEmit(address(book));
        emit IZkmlInferenceBook.InferenceAttested(expectedId, modelId, bob, 0);
        vm.prank(bob);
        bytes32 id = book.attest(modelId, proof, values);

        assertEq(id, expectedId);
        assertEq(book.inferenceId(modelId, values), expectedId);
        assertTrue(book.isAttested(modelId, values));
        assertEq(book.attestedAt(id), 42);
        assertEq(book.attestedModel(id), modelId);
    }

    function testFuzz_RevertsWhen_ProofIsNotForTheValues(uint256 seed, uint256 index, int8 delta) public {
        vm.assume(delta != 0);
        uint256 modelId = _registerPublic(alice);
        InferenceValues memory values = _values(seed, INPUTS, OUTPUTS);
        bytes memory proof = _proof(modelId, values);
        // The caller claims other inputs (or outputs) than the proof's: the registry packs the claim, so the
        // verifier sees instances the proof is not for.
        index = bound(index, 0, INPUTS + OUTPUTS - 1);
        int256[] memory section = index < INPUTS ? values.inputs : values.outputs;
        uint256 position = index < INPUTS ? index : index - INPUTS;
        int256 step = int256(delta) < 0 ? -int256(delta) : int256(delta);
        section[position] = section[position] > 0 ? section[position] - step : section[position] + step;

        vm.expectRevert(abi.encodeWithSelector(IZkmlModelRegistry.ZkmlRegistryProofRejected.selector, modelId));
        book.attest(modelId, proof, values);
        assertFalse(book.isAttested(modelId, values));
    }

    function test_RevertsWhen_ValueDoesNotFitItsSlot() public {
        uint256 modelId = _registerPublic(alice);
        InferenceValues memory values = _values(1, INPUTS, OUTPUTS);
        values.outputs[3] = int256(uint256(1) << (WIDTH - 1));
        vm.expectRevert(
            abi.encodeWithSelector(ZkmlInstances.ZkmlInstancesValueOutOfRange.selector, 3, values.outputs[3], WIDTH)
        );
        book.attest(modelId, "", values);
    }

    function test_RevertsWhen_ValueCountIsWrong() public {
        uint256 modelId = _registerPublic(alice);
        InferenceValues memory values = _values(1, INPUTS - 1, OUTPUTS);
        vm.expectRevert(
            abi.encodeWithSelector(
                IZkmlModelRegistry.ZkmlRegistryWrongValueCount.selector, modelId, false, INPUTS - 1, INPUTS
            )
        );
        book.attest(modelId, "", values);
    }

    function test_AttestAgainKeepsTheFirstRecordWithoutAProof() public {
        uint256 modelId = _registerPublic(alice);
        InferenceValues memory values = _values(2, INPUTS, OUTPUTS);
        vm.roll(10);
        bytes32 id = book.attest(modelId, _proof(modelId, values), values);

        vm.roll(20);
        vm.recordLogs();
        // No proof check on a recorded inference: the record already says it was proven.
        assertEq(book.attest(modelId, hex"deadbeef", values), id);
        assertEq(vm.getRecordedLogs().length, 0, "a second record emitted an event");
        assertEq(book.attestedAt(id), 10);
    }

    function test_RetiredModelIsNoLongerVouchedFor() public {
        uint256 modelId = _registerPublic(alice);
        InferenceValues memory values = _values(3, INPUTS, OUTPUTS);
        bytes memory proof = _proof(modelId, values);
        bytes32 id = book.attest(modelId, proof, values);

        vm.prank(alice);
        registry.retireModel(modelId);
        assertFalse(book.isAttested(modelId, values));
        assertGt(book.attestedAt(id), 0, "the history stays");
        vm.expectRevert(abi.encodeWithSelector(IZkmlModelRegistry.ZkmlRegistryModelIsRetired.selector, modelId));
        book.attest(modelId, proof, values);

        InferenceValues memory fresh = _values(4, INPUTS, OUTPUTS);
        vm.expectRevert(abi.encodeWithSelector(IZkmlModelRegistry.ZkmlRegistryModelIsRetired.selector, modelId));
        book.attest(modelId, "", fresh);
    }

    function test_SameValuesOfAnotherModelAreAnotherInference() public {
        uint256 first = _registerPublic(alice);
        uint256 second = _registerPublic(bob);
        InferenceValues memory values = _values(5, INPUTS, OUTPUTS);
        book.attest(first, _proof(first, values), values);
        assertTrue(book.isAttested(first, values));
        assertFalse(book.isAttested(second, values));
        assertTrue(book.inferenceId(first, values) != book.inferenceId(second, values));
    }

    function test_HashedSectionsAreAttestedByTheirHash() public {
        uint256 modelId = _register(alice, verifier, _layout(InputVisibility.Hashed, OutputVisibility.Hashed));
        InferenceValues memory values;
        values.inputs = new int256[](1);
        values.outputs = new int256[](1);
        values.inputs[0] = int256(uint256(keccak256("inputs")) % ZkmlInstances.SNARK_SCALAR_FIELD);
        values.outputs[0] = int256(uint256(keccak256("outputs")) % ZkmlInstances.SNARK_SCALAR_FIELD);
        uint256[] memory words = registry.inferenceInstances(modelId, values);
        assertEq(words.length, 2);
        assertEq(int256(words[0]), values.inputs[0]);
        book.attest(modelId, verifier.mockProof(words), values);
        assertTrue(book.isAttested(modelId, values));

        values.inputs[0] = -1;
        vm.expectRevert(abi.encodeWithSelector(IZkmlModelRegistry.ZkmlRegistryInvalidHash.selector, modelId, -1));
        book.attest(modelId, "", values);
    }

    function test_PrivateInputsAreAttestedWithoutInputs() public {
        uint256 modelId = _register(alice, verifier, _layout(InputVisibility.Private, OutputVisibility.Public));
        InferenceValues memory values = _values(6, 0, OUTPUTS);
        book.attest(modelId, _proof(modelId, values), values);
        assertTrue(book.isAttested(modelId, values));
    }

    function test_AttestBatch_RecordsEverySlotUnderItsModel() public {
        uint256 a = _registerPublic(alice);
        uint256 b = _registerPublic(alice);
        uint256[] memory slots = new uint256[](3);
        (slots[0], slots[1], slots[2]) = (a, b, a);
        vm.prank(alice);
        uint256 batchId = registry.registerBatchVerifier(verifier, GAS_LIMIT, slots);

        InferenceValues[] memory values = new InferenceValues[](3);
        uint256[12] memory accumulator;
        uint256 total = ZkmlInstances.ACCUMULATOR_LIMBS;
        for (uint256 i = 0; i < 3; ++i) {
            values[i] = _values(10 + i, INPUTS, OUTPUTS);
            total += registry.numInstances(slots[i]);
        }
        for (uint256 i = 0; i < accumulator.length; ++i) {
            accumulator[i] = i + 1;
        }
        uint256[] memory words = new uint256[](total);
        uint256 offset;
        for (uint256 i = 0; i < accumulator.length; ++i) {
            words[offset++] = accumulator[i];
        }
        for (uint256 i = 0; i < 3; ++i) {
            uint256[] memory own = registry.inferenceInstances(slots[i], values[i]);
            for (uint256 j = 0; j < own.length; ++j) {
                words[offset++] = own[j];
            }
        }
        bytes memory proof = verifier.mockProof(words);

        bytes32[] memory ids = book.attestBatch(batchId, proof, accumulator, values);
        for (uint256 i = 0; i < 3; ++i) {
            assertEq(ids[i], book.inferenceId(slots[i], values[i]));
            assertTrue(book.isAttested(slots[i], values[i]));
            assertEq(book.attestedModel(ids[i]), slots[i]);
        }
        // The slot's model is the batch verifier's, not the caller's choice: slot 1 is not model a's.
        assertFalse(book.isAttested(a, values[1]));

        accumulator[5] += 1;
        vm.expectRevert(abi.encodeWithSelector(IZkmlModelRegistry.ZkmlRegistryBatchProofRejected.selector, batchId));
        book.attestBatch(batchId, proof, accumulator, values);
    }

    function test_RevertsWhen_BatchIsEmpty() public {
        vm.expectRevert(IZkmlInferenceBook.ZkmlInferenceBookEmptyBatch.selector);
        uint256[12] memory accumulator;
        book.attestBatch(1, "", accumulator, new InferenceValues[](0));
    }

    function test_RevertsWhen_BatchVerifierAwaitsApproval() public {
        uint256 a = _registerPublic(alice);
        uint256[] memory slots = new uint256[](1);
        slots[0] = a;
        vm.prank(bob);
        uint256 batchId = registry.registerBatchVerifier(verifier, GAS_LIMIT, slots);
        InferenceValues[] memory values = new InferenceValues[](1);
        values[0] = _values(1, INPUTS, OUTPUTS);
        uint256[12] memory accumulator;
        vm.expectRevert(
            abi.encodeWithSelector(
                IZkmlModelRegistry.ZkmlRegistryBatchVerifierNotActive.selector, batchId, BatchVerifierStatus.Pending
            )
        );
        book.attestBatch(batchId, "", accumulator, values);
    }

    function test_GasBurningVerifierCostsAtMostItsCap() public {
        uint256 modelId =
            _register(alice, new GasBurningVerifier(), _layout(InputVisibility.Public, OutputVisibility.Public));
        InferenceValues memory values = _values(7, INPUTS, OUTPUTS);
        uint256 before = gasleft();
        try book.attest(modelId, hex"00", values) {
            fail();
        } catch (bytes memory reason) {
            assertEq(reason, abi.encodeWithSelector(IZkmlModelRegistry.ZkmlRegistryProofRejected.selector, modelId));
        }
        assertLe(before - gasleft(), GAS_LIMIT + BOOK_OVERHEAD, "a hostile verifier took more than its cap");
    }
}

/// @notice REAL proofs through REAL generated verifiers: the eth-price and pixel-art proofs one by one, and
///         the aggregated proof of eth-price + pixel-art + digits as one batch. Fixtures: `make fixtures`.
contract ZkmlInferenceBookRealProofTest is ZkmlFixtures {
    string internal constant ETH = "test/fixtures/eth-price/";
    string internal constant PIXEL = "test/fixtures/pixel-art/";
    string internal constant MIXED = "test/fixtures/mixed/";
    /// @dev Single verification costs about 275k gas; aggregated about 380k (docs/aggregation.md).
    uint32 internal constant SINGLE_GAS = 500_000;
    uint32 internal constant BATCH_GAS = 800_000;
    /// @dev What a rejected attestation may cost: the verifier's limit, which the registry forwards whole,
    ///      and the packing around it.
    uint256 internal constant SINGLE_REJECTION_CAP = 650_000;
    uint256 internal constant BATCH_REJECTION_CAP = 1_200_000;

    ZkmlModelRegistry internal registry;
    ZkmlInferenceBook internal book;
    uint256 internal ethModel;
    uint256 internal pixelModel;
    uint256 internal digitsModel;
    uint256 internal batchId;

    address internal digitsOwner = makeAddr("digitsOwner");

    function setUp() public {
        registry = new ZkmlModelRegistry();
        book = new ZkmlInferenceBook(registry);
        ethModel = _registerFixture(ETH, "proof.json");
        pixelModel = _registerFixture(PIXEL, "proof.json");

        // The digits slot's model: its own single verifier is not part of these fixtures, and the batch path
        // never calls it (the aggregated verifier checks the inner proof), so a mock stands in for it.
        string memory digits = vm.readFile(string.concat(MIXED, "p-digits.json"));
        MockZkmlVerifier digitsVerifier = new MockZkmlVerifier();
        vm.prank(digitsOwner);
        digitsModel = registry.registerModel(
            ModelConfig({
                verifier: digitsVerifier,
                commitment: vm.parseJsonBytes32(digits, ".model_commitment"),
                verifyGasLimit: SINGLE_GAS,
                publicLayout: _publicLayout(digits, ".layout")
            })
        );

        string memory aggregated = vm.readFile(string.concat(MIXED, "aggregated.json"));
        Halo2VerifierAdapter adapter = new Halo2VerifierAdapter(
            _deployGeneratedVerifier(string.concat(MIXED, "Halo2Verifier.hex")),
            vm.parseJsonUintArray(aggregated, ".instances").length,
            vm.parseJsonBytes(aggregated, ".proof").length
        );
        uint256[] memory slots = new uint256[](3);
        (slots[0], slots[1], slots[2]) = (ethModel, pixelModel, digitsModel);
        batchId = registry.registerBatchVerifier(adapter, BATCH_GAS, slots);
        vm.prank(digitsOwner);
        registry.approveBatchVerifier(batchId);
    }

    function _registerFixture(string memory dir, string memory file) internal returns (uint256) {
        string memory json = vm.readFile(string.concat(dir, file));
        Halo2VerifierAdapter adapter = new Halo2VerifierAdapter(
            _deployGeneratedVerifier(string.concat(dir, "Halo2Verifier.hex")),
            vm.parseJsonUintArray(json, ".instances").length,
            vm.parseJsonBytes(json, ".proof").length
        );
        return registry.registerModel(
            ModelConfig({
                verifier: adapter,
                commitment: vm.parseJsonBytes32(json, ".model_commitment"),
                verifyGasLimit: SINGLE_GAS,
                publicLayout: _publicLayout(json, ".layout")
            })
        );
    }

    function _single(string memory dir) internal view returns (bytes memory proof, InferenceValues memory values) {
        string memory json = vm.readFile(string.concat(dir, "proof.json"));
        proof = vm.parseJsonBytes(json, ".proof");
        values = _inferenceValues(json, ".layout", vm.parseJsonUintArray(json, ".instances"));
    }

    function _batch()
        internal
        view
        returns (bytes memory proof, uint256[12] memory accumulator, InferenceValues[] memory values)
    {
        string memory json = vm.readFile(string.concat(MIXED, "aggregated.json"));
        proof = vm.parseJsonBytes(json, ".proof");
        uint256[] memory words = vm.parseJsonUintArray(json, ".instances");
        accumulator = _accumulator(words);
        string[3] memory inner = ["p-eth-price.json", "p-pixel-art.json", "p-digits.json"];
        values = new InferenceValues[](3);
        for (uint256 i = 0; i < 3; ++i) {
            string memory own = vm.readFile(string.concat(MIXED, inner[i]));
            values[i] = _inferenceValues(own, ".layout", vm.parseJsonUintArray(own, ".instances"));
        }
    }

    function test_AttestsTheEthPriceProof() public {
        (bytes memory proof, InferenceValues memory values) = _single(ETH);
        // The inputs the book records are the feed features `zkml-eth input feed` computed.
        assertEq(values.inputs, vm.parseJsonIntArray(vm.readFile(string.concat(ETH, "input.json")), ".quantized[0]"));
        bytes32 id = book.attest(ethModel, proof, values);
        assertTrue(book.isAttested(ethModel, values));
        assertEq(book.attestedModel(id), ethModel);
    }

    function test_AttestsThePixelArtProof() public {
        (bytes memory proof, InferenceValues memory values) = _single(PIXEL);
        book.attest(pixelModel, proof, values);
        assertTrue(book.isAttested(pixelModel, values));
    }

    function test_RevertsWhen_RealProofIsTampered() public {
        (bytes memory proof, InferenceValues memory values) = _single(ETH);
        for (uint256 i = 0; i < proof.length; i += 397) {
            bytes memory tampered = bytes.concat(proof);
            tampered[i] ^= 0x01;
            _assertRevertsWithin(
                address(book),
                abi.encodeCall(book.attest, (ethModel, tampered, values)),
                SINGLE_REJECTION_CAP,
                abi.encodeWithSelector(IZkmlModelRegistry.ZkmlRegistryProofRejected.selector, ethModel)
            );
        }
    }

    function test_RevertsWhen_RealProofIsClaimedForOtherValues() public {
        (bytes memory proof, InferenceValues memory values) = _single(ETH);
        // A submitter who wants another prediction (or another feed window) cannot get it recorded.
        values.outputs[4] += 1;
        _assertRevertsWithin(
            address(book),
            abi.encodeCall(book.attest, (ethModel, proof, values)),
            SINGLE_REJECTION_CAP,
            abi.encodeWithSelector(IZkmlModelRegistry.ZkmlRegistryProofRejected.selector, ethModel)
        );
        values.outputs[4] -= 1;
        values.inputs[0] -= 1;
        vm.expectRevert(abi.encodeWithSelector(IZkmlModelRegistry.ZkmlRegistryProofRejected.selector, ethModel));
        book.attest(ethModel, proof, values);
    }

    function test_RevertsWhen_RealProofIsClaimedForAnotherModel() public {
        (bytes memory proof, InferenceValues memory values) = _single(PIXEL);
        // The digits model has the pixel-art model's output count but not its input count.
        vm.expectRevert();
        book.attest(digitsModel, proof, values);
        vm.expectRevert(
            abi.encodeWithSelector(IZkmlModelRegistry.ZkmlRegistryWrongValueCount.selector, ethModel, false, 14, 12)
        );
        book.attest(ethModel, proof, values);
    }

    function test_AttestBatch_OneAggregatedProofServesEveryModel() public {
        (bytes memory proof, uint256[12] memory accumulator, InferenceValues[] memory values) = _batch();
        bytes32[] memory ids = book.attestBatch(batchId, proof, accumulator, values);
        assertEq(ids.length, 3);
        assertTrue(book.isAttested(ethModel, values[0]));
        assertTrue(book.isAttested(pixelModel, values[1]));
        assertTrue(book.isAttested(digitsModel, values[2]));

        // The mixed batch holds the same eth-price inference as the single fixture: already proven, a consumer
        // needs no second proof.
        (, InferenceValues memory single) = _single(ETH);
        assertEq(book.attest(ethModel, "", single), ids[0]);
    }

    function test_RevertsWhen_AccumulatorLimbIsTampered() public {
        (bytes memory proof, uint256[12] memory accumulator, InferenceValues[] memory values) = _batch();
        for (uint256 i = 0; i < accumulator.length; i += 5) {
            uint256[12] memory tampered = accumulator;
            tampered[i] ^= 1;
            _assertRevertsWithin(
                address(book),
                abi.encodeCall(book.attestBatch, (batchId, proof, tampered, values)),
                BATCH_REJECTION_CAP,
                abi.encodeWithSelector(IZkmlModelRegistry.ZkmlRegistryBatchProofRejected.selector, batchId)
            );
        }
        accumulator[3] = uint256(1) << ZkmlInstances.ACCUMULATOR_LIMB_BITS;
        vm.expectRevert(
            abi.encodeWithSelector(IZkmlModelRegistry.ZkmlRegistryInvalidAccumulatorLimb.selector, 3, accumulator[3])
        );
        book.attestBatch(batchId, proof, accumulator, values);
    }

    function test_RevertsWhen_BatchSlotValueIsTampered() public {
        (bytes memory proof, uint256[12] memory accumulator, InferenceValues[] memory values) = _batch();
        values[1].outputs[17] += 1;
        _assertRevertsWithin(
            address(book),
            abi.encodeCall(book.attestBatch, (batchId, proof, accumulator, values)),
            BATCH_REJECTION_CAP,
            abi.encodeWithSelector(IZkmlModelRegistry.ZkmlRegistryBatchProofRejected.selector, batchId)
        );
    }

    function test_RevertsWhen_BatchProofIsTampered() public {
        (bytes memory proof, uint256[12] memory accumulator, InferenceValues[] memory values) = _batch();
        proof[proof.length / 2] ^= 0x01;
        _assertRevertsWithin(
            address(book),
            abi.encodeCall(book.attestBatch, (batchId, proof, accumulator, values)),
            BATCH_REJECTION_CAP,
            abi.encodeWithSelector(IZkmlModelRegistry.ZkmlRegistryBatchProofRejected.selector, batchId)
        );
    }

    function test_RevertsWhen_ASlotModelIsRetired() public {
        (bytes memory proof, uint256[12] memory accumulator, InferenceValues[] memory values) = _batch();
        vm.prank(digitsOwner);
        registry.retireModel(digitsModel);
        assertFalse(registry.batchVerifierUsable(batchId));
        vm.expectRevert(abi.encodeWithSelector(IZkmlModelRegistry.ZkmlRegistryModelIsRetired.selector, digitsModel));
        book.attestBatch(batchId, proof, accumulator, values);
    }

    function test_RevertsWhen_BatchVerifierLacksASlotOwnersApproval() public {
        (bytes memory proof, uint256[12] memory accumulator, InferenceValues[] memory values) = _batch();
        // The same real verifier, registered again by someone who owns none of the slot models.
        address stranger = makeAddr("stranger");
        uint256[] memory slots = new uint256[](3);
        (slots[0], slots[1], slots[2]) = (ethModel, pixelModel, digitsModel);
        IZkmlVerifier adapter = registry.batchVerifier(batchId).verifier;
        vm.prank(stranger);
        uint256 unapproved = registry.registerBatchVerifier(adapter, BATCH_GAS, slots);
        vm.expectRevert(
            abi.encodeWithSelector(
                IZkmlModelRegistry.ZkmlRegistryBatchVerifierNotActive.selector, unapproved, BatchVerifierStatus.Pending
            )
        );
        book.attestBatch(unapproved, proof, accumulator, values);
    }
}
