// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.24;

import {ZkmlFixtures} from "./utils/ZkmlFixtures.sol";

import {ERC7007Zkml} from "../contracts/ERC7007Zkml.sol";
import {ZkmlInferenceBook} from "../contracts/ZkmlInferenceBook.sol";
import {ZkmlModelRegistry} from "../contracts/ZkmlModelRegistry.sol";
import {IZkmlModelRegistry, InferenceValues, ModelConfig} from "../contracts/interfaces/IZkmlModelRegistry.sol";
import {PixelArtCodec} from "../contracts/libraries/PixelArtCodec.sol";
import {Halo2VerifierAdapter} from "../contracts/verifiers/Halo2VerifierAdapter.sol";

/// @notice The largest batch `zkml-eth aggregate` makes: ONE REAL aggregated proof of sixteen pixel-art
///         inferences (test/fixtures/batch, `make fixtures`) through its REAL generated verifier. The book
///         attests all sixteen in one transaction, and the NFT then mints sixteen tokens without a proof.
contract BatchOfSixteenTest is ZkmlFixtures {
    string internal constant BATCH = "test/fixtures/batch/";
    string internal constant PIXEL = "test/fixtures/pixel-art/";
    uint256 internal constant SLOTS = 16;
    uint32 internal constant SINGLE_GAS = 500_000;
    /// @dev The two-layer aggregated verifier costs about 400k gas whatever the slot count.
    uint32 internal constant BATCH_GAS = 800_000;
    /// @dev What a rejected batch may cost: the verifier's limit, which the registry forwards whole, and
    ///      the packing of sixteen slots' values.
    uint256 internal constant BATCH_REJECTION_CAP = 2_000_000;

    ZkmlModelRegistry internal registry;
    ZkmlInferenceBook internal book;
    ERC7007Zkml internal nft;
    uint256 internal modelId;
    uint256 internal batchId;

    address internal alice = makeAddr("alice");

    function setUp() public {
        registry = new ZkmlModelRegistry();
        book = new ZkmlInferenceBook(registry);
        string memory single = vm.readFile(string.concat(PIXEL, "proof.json"));
        Halo2VerifierAdapter adapter = new Halo2VerifierAdapter(
            _deployGeneratedVerifier(string.concat(PIXEL, "Halo2Verifier.hex")),
            vm.parseJsonUintArray(single, ".instances").length,
            vm.parseJsonBytes(single, ".proof").length
        );
        modelId = registry.registerModel(
            ModelConfig({
                verifier: adapter,
                commitment: vm.parseJsonBytes32(single, ".model_commitment"),
                verifyGasLimit: SINGLE_GAS,
                publicLayout: _publicLayout(single, ".layout")
            })
        );
        nft = new ERC7007Zkml("Zkml Pixel Art", "ZPA", "sixteen at once", registry, book, modelId);

        string memory aggregated = vm.readFile(string.concat(BATCH, "aggregated.json"));
        Halo2VerifierAdapter batchAdapter = new Halo2VerifierAdapter(
            _deployGeneratedVerifier(string.concat(BATCH, "Halo2Verifier.hex")),
            vm.parseJsonUintArray(aggregated, ".instances").length,
            vm.parseJsonBytes(aggregated, ".proof").length
        );
        uint256[] memory slots = new uint256[](SLOTS);
        for (uint256 i = 0; i < SLOTS; ++i) {
            slots[i] = modelId;
        }
        // The registrant owns every slot's model: active at once.
        batchId = registry.registerBatchVerifier(batchAdapter, BATCH_GAS, slots);
    }

    /// @dev The aggregated proof, its accumulator and each slot's values, cut from the aggregated instances
    ///      at the slot's offset with the slot's own layout.
    function _batch()
        internal
        view
        returns (bytes memory proof, uint256[12] memory accumulator, InferenceValues[] memory values)
    {
        string memory json = vm.readFile(string.concat(BATCH, "aggregated.json"));
        proof = vm.parseJsonBytes(json, ".proof");
        uint256[] memory words = vm.parseJsonUintArray(json, ".instances");
        accumulator = _accumulator(words);
        values = new InferenceValues[](SLOTS);
        for (uint256 i = 0; i < SLOTS; ++i) {
            string memory inner = string.concat(".inner[", vm.toString(i), "]");
            uint256 offset = vm.parseJsonUint(json, string.concat(inner, ".offset"));
            uint256[] memory own = new uint256[](vm.parseJsonUint(json, string.concat(inner, ".layout.num_instances")));
            for (uint256 j = 0; j < own.length; ++j) {
                own[j] = words[offset + j];
            }
            values[i] = _inferenceValues(json, string.concat(inner, ".layout"), own);
        }
    }

    function _prompts() internal view returns (bytes[] memory prompts) {
        prompts = vm.parseJsonBytesArray(vm.readFile(string.concat(BATCH, "prompts.json")), ".prompts");
    }

    function test_TheSlotsAreTheFixturesPrompts() public view {
        (,, InferenceValues[] memory values) = _batch();
        bytes[] memory prompts = _prompts();
        assertEq(prompts.length, SLOTS);
        uint8 scale = registry.model(modelId).publicLayout.inputScale;
        for (uint256 i = 0; i < SLOTS; ++i) {
            assertEq(values[i].inputs, PixelArtCodec.inputs(prompts[i], scale));
        }
    }

    function test_AttestBatch_SixteenInferencesInOneTransaction() public {
        (bytes memory proof, uint256[12] memory accumulator, InferenceValues[] memory values) = _batch();
        uint256 before = gasleft();
        bytes32[] memory ids = book.attestBatch(batchId, proof, accumulator, values);
        uint256 used = before - gasleft();
        emit log_named_uint("attestBatch of 16, gas", used);
        emit log_named_uint("attestBatch of 16, gas per inference", used / SLOTS);
        assertEq(ids.length, SLOTS);
        for (uint256 i = 0; i < SLOTS; ++i) {
            assertTrue(book.isAttested(modelId, values[i]));
            assertEq(book.attestedModel(ids[i]), modelId);
        }
    }

    function test_MintsSixteenTokensFromOneAggregatedProof() public {
        (bytes memory proof, uint256[12] memory accumulator, InferenceValues[] memory values) = _batch();
        book.attestBatch(batchId, proof, accumulator, values);
        bytes[] memory prompts = _prompts();
        for (uint256 i = 0; i < SLOTS; ++i) {
            vm.prank(alice);
            nft.commit(nft.commitment(prompts[i], alice, bytes32(i)));
        }
        vm.roll(block.number + nft.REVEAL_DELAY_BLOCKS());
        for (uint256 i = 0; i < SLOTS; ++i) {
            bytes memory data = PixelArtCodec.encodeAigcData(values[i].outputs);
            assertTrue(nft.verify(prompts[i], data, ""));
            vm.prank(alice);
            uint256 id = nft.mint(prompts[i], bytes32(i), data, "");
            assertEq(id, uint256(keccak256(prompts[i])));
            assertEq(nft.aigcDataOf(id), data);
        }
        assertEq(nft.balanceOf(alice), SLOTS);
    }

    function test_RevertsWhen_TheSixteenProofIsTampered() public {
        (bytes memory proof, uint256[12] memory accumulator, InferenceValues[] memory values) = _batch();
        proof[proof.length / 3] ^= 0x01;
        _assertRevertsWithin(
            address(book),
            abi.encodeCall(book.attestBatch, (batchId, proof, accumulator, values)),
            BATCH_REJECTION_CAP,
            abi.encodeWithSelector(IZkmlModelRegistry.ZkmlRegistryBatchProofRejected.selector, batchId)
        );
    }

    function test_RevertsWhen_OneOfSixteenOutputsIsClaimedOtherwise() public {
        (bytes memory proof, uint256[12] memory accumulator, InferenceValues[] memory values) = _batch();
        // The last slot's first pixel, one unit brighter: one of the sixteen images swapped for another.
        values[SLOTS - 1].outputs[0] += 1;
        _assertRevertsWithin(
            address(book),
            abi.encodeCall(book.attestBatch, (batchId, proof, accumulator, values)),
            BATCH_REJECTION_CAP,
            abi.encodeWithSelector(IZkmlModelRegistry.ZkmlRegistryBatchProofRejected.selector, batchId)
        );
    }
}
