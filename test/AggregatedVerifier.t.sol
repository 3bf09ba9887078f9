// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.24;

import {ZkmlFixtures} from "./utils/ZkmlFixtures.sol";
import {RevertingVerifier} from "./mocks/HostileVerifiers.sol";

import {Halo2VerifierAdapter} from "../contracts/verifiers/Halo2VerifierAdapter.sol";
import {ZkmlInstances} from "../contracts/libraries/ZkmlInstances.sol";
import {ZkmlModelRegistry} from "../contracts/ZkmlModelRegistry.sol";
import {
    BatchVerifierStatus,
    IZkmlModelRegistry,
    InferenceValues,
    ModelConfig,
    PublicLayout
} from "../contracts/interfaces/IZkmlModelRegistry.sol";
import {IZkmlVerifier} from "../contracts/interfaces/IZkmlVerifier.sol";

/// @notice A REAL aggregated proof (`zkml-eth aggregate`) through its REAL generated verifier
///         (`zkml-eth gen-verifier --bytecode`), registered as a batch verifier over the inner proofs' models:
///         each model with the layout its inner entry carries, the batch verifier over them in slot order. The
///         registry rebuilds the aggregated proof's instances from the accumulator and each slot's values.
///         Fixtures are made by `make fixtures` with the UNSAFE dev SRS.
abstract contract AggregatedBatchTest is ZkmlFixtures {
    address internal halo2Verifier;
    Halo2VerifierAdapter internal adapter;
    bytes internal proof;
    uint256[] internal instances;
    string internal aggregated;
    string internal dir;

    ZkmlModelRegistry internal registry;
    /// @dev The models' own single-proof verifier. The inner proofs use the Poseidon transcript, which only
    ///      the aggregation circuit checks, and the fixtures ship no EVM verifier of a single digits proof: the
    ///      models are registered with a verifier that rejects everything, so only the batch path can accept.
    RevertingVerifier internal singleVerifier;
    /// @dev The model of each slot, in the aggregated proof's order.
    uint256[] internal slotModels;
    uint256 internal batchId;

    /// @dev The gas the batch verifier gets: a tampered proof may burn all of it.
    function _verifyGas() internal pure virtual returns (uint32);

    function _load(string memory dir_) internal {
        dir = dir_;
        aggregated = vm.readFile(string.concat(dir, "aggregated.json"));
        proof = vm.parseJsonBytes(aggregated, ".proof");
        instances = vm.parseJsonUintArray(aggregated, ".instances");
        halo2Verifier = _deployGeneratedVerifier(string.concat(dir, "Halo2Verifier.hex"));
        adapter = new Halo2VerifierAdapter(halo2Verifier, instances.length, proof.length);

        registry = new ZkmlModelRegistry();
        singleVerifier = new RevertingVerifier();
        for (uint256 i = 0; vm.keyExistsJson(aggregated, _entry(i)); ++i) {
            slotModels.push(_modelOfSlot(i));
        }
        batchId = registry.registerBatchVerifier(adapter, _verifyGas(), slotModels);
    }

    function _entry(uint256 i) internal pure returns (string memory) {
        return string.concat(".inner[", vm.toString(i), "]");
    }

    /// @dev The registered model of slot `i`: a slot of a model already registered for an earlier slot (same
    ///      circuit and weights) reuses its id, as one owner would; otherwise a new model with the entry's layout.
    function _modelOfSlot(uint256 i) internal returns (uint256) {
        string memory entry = _entry(i);
        bytes32 circuit = vm.parseJsonBytes32(aggregated, string.concat(entry, ".circuit_hash"));
        bytes32 commitment = vm.parseJsonBytes32(aggregated, string.concat(entry, ".model_commitment"));
        PublicLayout memory l = _publicLayout(aggregated, string.concat(entry, ".layout"));
        for (uint256 j = 0; j < i; ++j) {
            string memory earlier = _entry(j);
            if (
                vm.parseJsonBytes32(aggregated, string.concat(earlier, ".circuit_hash")) == circuit
                    && vm.parseJsonBytes32(aggregated, string.concat(earlier, ".model_commitment")) == commitment
            ) {
                assertEq(
                    abi.encode(registry.model(slotModels[j]).publicLayout), abi.encode(l), "one model, two layouts"
                );
                return slotModels[j];
            }
        }
        return registry.registerModel(
            ModelConfig({
                verifier: singleVerifier, commitment: commitment, verifyGasLimit: _verifyGas(), publicLayout: l
            })
        );
    }

    /// @dev The artifact of slot `i`'s inner proof, as `zkml-eth prove` wrote it.
    function _innerArtifact(uint256 i) internal view returns (string memory) {
        return vm.readFile(string.concat(dir, vm.parseJsonString(aggregated, string.concat(_entry(i), ".proof_file"))));
    }

    /// @dev Each slot's values, decoded from its inner proof's own instances by its layout.
    function _slotValues() internal view returns (InferenceValues[] memory values) {
        values = new InferenceValues[](slotModels.length);
        for (uint256 i = 0; i < values.length; ++i) {
            string memory inner = _innerArtifact(i);
            values[i] = _inferenceValues(inner, ".layout", vm.parseJsonUintArray(inner, ".instances"));
        }
    }

    function _expectBatchRejected(bytes memory proof_, uint256[12] memory limbs, InferenceValues[] memory values)
        internal
    {
        vm.expectRevert(abi.encodeWithSelector(IZkmlModelRegistry.ZkmlRegistryBatchProofRejected.selector, batchId));
        registry.requireValidBatch(batchId, proof_, limbs, values);
    }

    function test_BatchVerifierAcceptsTheRealAggregatedProof() public {
        assertTrue(registry.batchVerifierUsable(batchId), "the owner of every slot registered it: active at once");
        bytes memory data =
            abi.encodeCall(registry.requireValidBatch, (batchId, proof, _accumulator(instances), _slotValues()));
        address target = address(registry);
        bool ok;
        uint256 before = gasleft();
        // Sent in place, so the figure is the registry call's alone, not the test's encoding of it.
        assembly ("memory-safe") {
            ok := staticcall(gas(), target, add(data, 0x20), mload(data), 0, 0)
        }
        uint256 used = before - gasleft();
        assertTrue(ok);
        emit log_named_uint(string.concat("requireValidBatch gas, ", dir), used);
    }

    /// @dev The registry rebuilds the aggregated proof's exact instances, and the slot values it packs are the
    ///      outputs each inner proof's prover wrote.
    function test_BatchInstancesAreTheAggregatedInstances() public {
        InferenceValues[] memory values = _slotValues();
        for (uint256 i = 0; i < values.length; ++i) {
            assertEq(values[i].outputs, vm.parseJsonIntArray(_innerArtifact(i), ".outputs_quantized"));
        }
        vm.expectCall(address(adapter), abi.encodeCall(IZkmlVerifier.verifyProof, (proof, instances)), 1);
        registry.requireValidBatch(batchId, proof, _accumulator(instances), values);
    }

    /// @dev Each slot's model counts the instances its inner entry does, at the offset the entry names.
    function test_SlotModelsHaveTheInnerLayouts() public view {
        uint256 offset = ZkmlInstances.ACCUMULATOR_LIMBS;
        for (uint256 i = 0; i < slotModels.length; ++i) {
            string memory entry = _entry(i);
            assertEq(vm.parseJsonUint(aggregated, string.concat(entry, ".offset")), offset);
            uint256 count = registry.numInstances(slotModels[i]);
            assertEq(count, vm.parseJsonUint(aggregated, string.concat(entry, ".layout.num_instances")));
            assertEq(
                registry.model(slotModels[i]).commitment,
                vm.parseJsonBytes32(aggregated, string.concat(entry, ".model_commitment"))
            );
            offset += count;
        }
        assertEq(offset, instances.length);
    }

    /// @dev Verifying a batch consults the batch verifier alone, never a slot model's own verifier.
    function test_ModelsOwnVerifierIsNotConsulted() public {
        vm.expectCall(address(singleVerifier), "", 0);
        registry.requireValidBatch(batchId, proof, _accumulator(instances), _slotValues());
    }

    function test_RevertsWhen_AggregatedProofTampered() public {
        uint256[12] memory limbs = _accumulator(instances);
        InferenceValues[] memory values = _slotValues();
        for (uint256 i = 0; i < proof.length; i += 613) {
            bytes memory tampered = bytes.concat(proof);
            tampered[i] ^= 0x01;
            _expectBatchRejected(tampered, limbs, values);
        }
    }

    /// @dev One input or output value of any slot off by one, still inside its slot: the proof rejects it.
    function test_RevertsWhen_SlotValueTampered() public {
        uint256[12] memory limbs = _accumulator(instances);
        InferenceValues[] memory values = _slotValues();
        for (uint256 s = 0; s < values.length; ++s) {
            int256[][2] memory sections = [values[s].inputs, values[s].outputs];
            for (uint256 k = 0; k < 2; ++k) {
                uint256 last = sections[k].length - 1;
                int256 original = sections[k][last];
                // Toward zero, so the value stays inside its slot.
                sections[k][last] += original < 0 ? int256(1) : -1;
                _expectBatchRejected(proof, limbs, values);
                sections[k][last] = original;
            }
        }
    }

    function test_RevertsWhen_AccumulatorLimbTampered() public {
        InferenceValues[] memory values = _slotValues();
        for (uint256 i = 0; i < ZkmlInstances.ACCUMULATOR_LIMBS; ++i) {
            uint256[12] memory limbs = _accumulator(instances);
            // The low bit: the limb stays below 2**88, a well-formed limb of another accumulator.
            limbs[i] ^= 1;
            _expectBatchRejected(proof, limbs, values);
        }
    }

    /// @dev The same accumulator written with a limb of 88 bits or more (the low limb plus 2**88, the next
    ///      limb minus one): refused by name before the verifier is paid to reject it.
    function test_RevertsWhen_AccumulatorLimbTooWide() public {
        InferenceValues[] memory values = _slotValues();
        uint256[12] memory limbs = _accumulator(instances);
        limbs[0] += uint256(1) << ZkmlInstances.ACCUMULATOR_LIMB_BITS;
        limbs[1] -= 1;
        vm.expectCall(address(adapter), abi.encodeWithSelector(IZkmlVerifier.verifyProof.selector), 0);
        vm.expectRevert(
            abi.encodeWithSelector(IZkmlModelRegistry.ZkmlRegistryInvalidAccumulatorLimb.selector, 0, limbs[0])
        );
        registry.requireValidBatch(batchId, proof, limbs, values);
    }

    function test_RevertsWhen_SlotMissing() public {
        InferenceValues[] memory all = _slotValues();
        InferenceValues[] memory fewer = new InferenceValues[](all.length - 1);
        for (uint256 i = 0; i < fewer.length; ++i) {
            fewer[i] = all[i];
        }
        vm.expectRevert(
            abi.encodeWithSelector(
                IZkmlModelRegistry.ZkmlRegistryWrongSlotCount.selector, batchId, fewer.length, all.length
            )
        );
        registry.requireValidBatch(batchId, proof, _accumulator(instances), fewer);
    }

    /// @dev Retiring the last slot's model takes the real batch verifier out of service.
    function test_RevertsWhen_SlotModelRetired() public {
        uint256 retired = slotModels[slotModels.length - 1];
        registry.retireModel(retired);
        assertFalse(registry.batchVerifierUsable(batchId));
        uint256[12] memory limbs = _accumulator(instances);
        InferenceValues[] memory values = _slotValues();
        vm.expectRevert(abi.encodeWithSelector(IZkmlModelRegistry.ZkmlRegistryModelIsRetired.selector, retired));
        registry.requireValidBatch(batchId, proof, limbs, values);
    }

    function test_RevertsWhen_BatchVerifierRetired() public {
        registry.retireBatchVerifier(batchId);
        uint256[12] memory limbs = _accumulator(instances);
        InferenceValues[] memory values = _slotValues();
        vm.expectRevert(
            abi.encodeWithSelector(
                IZkmlModelRegistry.ZkmlRegistryBatchVerifierNotActive.selector, batchId, BatchVerifierStatus.Retired
            )
        );
        registry.requireValidBatch(batchId, proof, limbs, values);
    }
}

/// @notice Two digits-MLP inference proofs (fixed weights), aggregated: one model in both slots. Regenerate
///         with tools/fixtures/aggregated.sh. Also the generated verifier and adapter on their own.
contract AggregatedVerifierTest is AggregatedBatchTest {
    string internal constant DIR = "test/fixtures/aggregated/";
    /// @dev The gas a consumer forwards to the verifier: a tampered proof may burn all of it.
    uint32 internal constant VERIFY_GAS = 1_000_000;

    function _verifyGas() internal pure override returns (uint32) {
        return VERIFY_GAS;
    }

    function setUp() public {
        _load(DIR);
    }

    function _verify(bytes memory proof_, uint256[] memory instances_) internal view returns (bool) {
        try adapter.verifyProof{gas: VERIFY_GAS}(proof_, instances_) returns (bool valid) {
            return valid;
        } catch {
            return false;
        }
    }

    /// @dev Both inner proofs are of one model (one circuit, one set of weights): one id fills both slots.
    function test_OneModelFillsBothSlots() public view {
        assertEq(slotModels.length, 2);
        assertEq(slotModels[0], slotModels[1]);
        assertEq(registry.modelCount(), 1);
        assertEq(registry.batchVerifier(batchId).modelIds, slotModels);
    }

    function test_RealAggregatedProofVerifies() public view {
        assertTrue(_verify(proof, instances));
        // Under EIP-170, as on mainnet.
        assertLe(halo2Verifier.code.length, 24_576);
    }

    function test_RawCalldataVerifies() public view {
        (bool ok,) = halo2Verifier.staticcall(abi.encodePacked(instances, proof));
        assertTrue(ok);
    }

    function test_TamperedProofRejected() public view {
        for (uint256 i = 0; i < proof.length; i += 397) {
            bytes memory tampered = bytes.concat(proof);
            tampered[i] = bytes1(uint8(tampered[i]) ^ 0x01);
            assertFalse(_verify(tampered, instances), "a proof with one flipped bit verified");
        }
    }

    function test_TamperedInnerInstanceRejected() public view {
        for (uint256 i = ZkmlInstances.ACCUMULATOR_LIMBS; i < instances.length; ++i) {
            uint256[] memory tampered = _copy(instances);
            tampered[i] ^= 1;
            assertFalse(_verify(proof, tampered), "a tampered inner instance verified");
        }
    }

    function test_TamperedAccumulatorRejected() public view {
        for (uint256 i = 0; i < ZkmlInstances.ACCUMULATOR_LIMBS; ++i) {
            uint256[] memory tampered = _copy(instances);
            tampered[i] ^= 1;
            assertFalse(_verify(proof, tampered), "a tampered accumulator limb verified");
        }
    }

    /// @dev The generated verifier reduces instances modulo r, so x + r passes it; the adapter refuses.
    function test_NonCanonicalInstanceRejectedByTheAdapterOnly() public view {
        uint256[] memory aliased = _copy(instances);
        aliased[ZkmlInstances.ACCUMULATOR_LIMBS] += ZkmlInstances.SNARK_SCALAR_FIELD;
        (bool rawOk,) = halo2Verifier.staticcall(abi.encodePacked(aliased, proof));
        assertTrue(rawOk, "the generated verifier no longer reduces instances: update the adapter's docs");
        assertFalse(_verify(proof, aliased));
    }

    /// @dev The generated verifier ignores calldata after the proof; the adapter pins the proof length.
    function test_TrailingBytesRejectedByTheAdapterOnly() public view {
        bytes memory padded = bytes.concat(proof, bytes32(uint256(1)));
        (bool rawOk,) = halo2Verifier.staticcall(abi.encodePacked(instances, padded));
        assertTrue(rawOk, "the generated verifier no longer ignores trailing calldata: update the adapter's docs");
        assertFalse(_verify(padded, instances));
    }

    function test_WrongInstanceCountRejected() public view {
        uint256[] memory shorter = new uint256[](instances.length - 1);
        for (uint256 i = 0; i < shorter.length; ++i) {
            shorter[i] = instances[i];
        }
        assertFalse(_verify(proof, shorter));
    }

    function test_RejectionCostsBoundedGas() public view {
        bytes memory tampered = bytes.concat(proof);
        tampered[100] ^= 0x01;
        uint256 before = gasleft();
        assertFalse(_verify(tampered, instances));
        // At most the gas forwarded plus the call's own overhead.
        assertLe(before - gasleft(), VERIFY_GAS + 50_000);
    }

    /// @dev Both sides test against one layout: the library decodes the aggregated instances to exactly
    ///      the outputs the prover wrote into each inner proof artifact.
    function test_LayoutDecodesEachInnerProofsOutputs() public view {
        for (uint256 p = 0; p < slotModels.length; ++p) {
            string memory entry = _entry(p);
            string memory section = string.concat(entry, ".layout.sections[1]");
            assertEq(vm.parseJsonString(aggregated, string.concat(section, ".kind")), "outputs");
            uint256 offset = vm.parseJsonUint(aggregated, string.concat(entry, ".offset"));
            uint256 length = vm.parseJsonUint(aggregated, string.concat(entry, ".layout.num_instances"));
            uint256[] memory own = ZkmlInstances.slice(instances, offset, length);
            int256[] memory outputs = ZkmlInstances.unpack(
                own,
                vm.parseJsonUint(aggregated, string.concat(section, ".offset")),
                vm.parseJsonUint(aggregated, string.concat(section, ".values")),
                vm.parseJsonUint(aggregated, string.concat(section, ".width"))
            );
            string memory artifact = _innerArtifact(p);
            assertEq(outputs, vm.parseJsonIntArray(artifact, ".outputs_quantized"));
            // The inner artifact's own instances are the same words.
            assertEq(own, vm.parseJsonUintArray(artifact, ".instances"));
        }
    }

    function test_AccumulatorLimbsRecombine() public view {
        uint256[4] memory coordinates = ZkmlInstances.accumulator(instances);
        for (uint256 c = 0; c < 4; ++c) {
            // Base-field coordinates of BN254 points.
            assertLt(
                coordinates[c],
                21_888_242_871_839_275_222_246_405_745_257_275_088_696_311_157_297_823_662_689_037_894_645_226_208_583
            );
            assertGt(coordinates[c], 0);
        }
    }

    function test_SliceOutOfRangeReverts() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                ZkmlInstances.ZkmlInstancesOutOfRange.selector, instances.length, 1, instances.length
            )
        );
        this.sliceExternal(instances, instances.length, 1);
    }

    function sliceExternal(uint256[] memory all, uint256 offset, uint256 length)
        external
        pure
        returns (uint256[] memory)
    {
        return ZkmlInstances.slice(all, offset, length);
    }

    function _copy(uint256[] memory values) internal pure returns (uint256[] memory copy) {
        copy = new uint256[](values.length);
        for (uint256 i = 0; i < values.length; ++i) {
            copy[i] = values[i];
        }
    }
}

/// @notice One aggregated proof of three models (eth-price, pixel-art, digits MLP), each slot with its own
///         layout (2, 5 and 5 instances, different widths). Regenerate with tools/fixtures/examples.sh.
contract MixedAggregatedBatchTest is AggregatedBatchTest {
    string internal constant DIR = "test/fixtures/mixed/";

    function _verifyGas() internal pure override returns (uint32) {
        return 1_500_000;
    }

    function setUp() public {
        _load(DIR);
    }

    function test_ThreeModelsInThreeSlots() public view {
        assertEq(slotModels.length, 3);
        assertEq(registry.modelCount(), 3);
        assertEq(registry.numInstances(slotModels[0]), 2);
        assertEq(registry.numInstances(slotModels[1]), 5);
        assertEq(registry.numInstances(slotModels[2]), 5);
    }
}
