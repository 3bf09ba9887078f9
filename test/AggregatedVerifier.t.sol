// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.24;

import {GeneratedVerifierTest} from "./utils/GeneratedVerifierTest.sol";

import {Halo2VerifierAdapter} from "../contracts/verifiers/Halo2VerifierAdapter.sol";
import {ZkmlInstances} from "../contracts/libraries/ZkmlInstances.sol";
import {ZkmlModelRegistry} from "../contracts/ZkmlModelRegistry.sol";
import {ModelConfig} from "../contracts/interfaces/IZkmlModelRegistry.sol";

/// @notice A REAL aggregated proof (two digits-MLP inference proofs, aggregated by `zkml-eth aggregate`)
///         through the REAL generated verifier (`zkml-eth gen-verifier --bytecode`). Regenerate the
///         fixture with `make fixtures` (tools/fixtures/aggregated.sh); it is made with the UNSAFE dev SRS.
contract AggregatedVerifierTest is GeneratedVerifierTest {
    string internal constant DIR = "test/fixtures/aggregated/";
    /// @dev The gas a consumer forwards to the verifier: a tampered proof may burn all of it.
    uint32 internal constant VERIFY_GAS = 1_000_000;
    /// @dev The fixed-point scale of the digits MLP's inputs and outputs.
    uint8 internal constant SCALE = 12;

    address internal halo2Verifier;
    Halo2VerifierAdapter internal adapter;
    bytes internal proof;
    uint256[] internal instances;
    string internal aggregated;

    function setUp() public {
        aggregated = vm.readFile(string.concat(DIR, "aggregated.json"));
        proof = vm.parseJsonBytes(aggregated, ".proof");
        instances = vm.parseJsonUintArray(aggregated, ".instances");
        address deployed = _deployGeneratedVerifier(string.concat(DIR, "Halo2Verifier.hex"));
        halo2Verifier = deployed;
        adapter = new Halo2VerifierAdapter(deployed, instances.length, proof.length);
    }

    function _verify(bytes memory proof_, uint256[] memory instances_) internal view returns (bool) {
        try adapter.verifyProof{gas: VERIFY_GAS}(proof_, instances_) returns (bool valid) {
            return valid;
        } catch {
            return false;
        }
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

    /// @dev The fixture's inner proofs have fixed weights: the verifying key pins them, so the model is
    ///      registered without commitment indices and the registry takes the proof as it stands.
    function test_RegistryAcceptsTheAggregatedProofOfFixedWeights() public {
        ZkmlModelRegistry registry = new ZkmlModelRegistry();
        uint256 modelId = registry.registerModel(
            ModelConfig({
                verifier: adapter,
                commitment: vm.parseJsonBytes32(aggregated, ".inner[0].model_commitment"),
                inputScale: SCALE,
                outputScale: SCALE,
                verifyGasLimit: VERIFY_GAS,
                commitmentIndices: new uint16[](0)
            })
        );
        assertTrue(registry.isValidProof(modelId, proof, instances));
        bytes memory tampered = bytes.concat(proof);
        tampered[100] ^= 0x01;
        assertFalse(registry.isValidProof(modelId, tampered, instances));
    }

    function test_WrongInstanceCountRejected() public view {
        uint256[] memory shorter = new uint256[](instances.length - 1);
        for (uint256 i = 0; i < shorter.length; ++i) {
            shorter[i] = instances[i];
        }
        assertFalse(_verify(proof, shorter));
    }

    function test_RejectionCostsBoundedGas() public {
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
        string[2] memory inner = ["p0.json", "p1.json"];
        for (uint256 p = 0; p < inner.length; ++p) {
            string memory entry = string.concat(".inner[", vm.toString(p), "]");
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
            string memory artifact = vm.readFile(string.concat(DIR, inner[p]));
            int256[] memory expected = vm.parseJsonIntArray(artifact, ".outputs_quantized");
            assertEq(outputs.length, expected.length);
            for (uint256 i = 0; i < expected.length; ++i) {
                assertEq(outputs[i], expected[i]);
            }
            // The inner artifact's own instances are the same words.
            uint256[] memory ownInArtifact = vm.parseJsonUintArray(artifact, ".instances");
            assertEq(own, ownInArtifact);
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
