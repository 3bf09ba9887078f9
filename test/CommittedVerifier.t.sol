// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.24;

import {ZkmlFixtures} from "./utils/ZkmlFixtures.sol";

import {ZkmlModelRegistry} from "../contracts/ZkmlModelRegistry.sol";
import {
    IZkmlModelRegistry,
    InferenceValues,
    ModelConfig,
    PublicLayout,
    WeightVisibility
} from "../contracts/interfaces/IZkmlModelRegistry.sol";
import {IZkmlVerifier} from "../contracts/interfaces/IZkmlVerifier.sol";
import {ZkmlInstances} from "../contracts/libraries/ZkmlInstances.sol";
import {Halo2VerifierAdapter} from "../contracts/verifiers/Halo2VerifierAdapter.sol";

/// @notice REAL proofs with committed weights (`setup --weights committed`) through the REAL generated
///         verifier behind the adapter and the registry. Model A is the digits MLP; model B has other weights
///         but the same circuit, so one verifier (byte for byte) serves both: the verifying key does not pin
///         committed weights, and only the commitment at instance 0 tells B's proof from A's. The model is
///         registered with the layout its proof artifact carries. Regenerate the fixture with
///         `make fixtures` (tools/fixtures/committed.sh); it is made with the UNSAFE dev SRS.
contract CommittedVerifierTest is ZkmlFixtures {
    string internal constant DIR = "test/fixtures/committed/";
    /// @dev The verifier's gas cap in the registry: a committed-weights digits proof verifies for about 580k.
    uint32 internal constant VERIFY_GAS_LIMIT = 1_000_000;

    address internal halo2Verifier;
    Halo2VerifierAdapter internal adapter;
    ZkmlModelRegistry internal registry;
    uint256 internal modelId;

    string internal artifactA;
    bytes internal proofA;
    uint256[] internal instancesA;
    bytes32 internal commitmentA;
    bytes internal proofB;
    uint256[] internal instancesB;
    bytes32 internal commitmentB;
    PublicLayout internal modelLayout;

    function setUp() public {
        artifactA = vm.readFile(string.concat(DIR, "proof-a.json"));
        proofA = vm.parseJsonBytes(artifactA, ".proof");
        instancesA = vm.parseJsonUintArray(artifactA, ".instances");
        commitmentA = vm.parseJsonBytes32(artifactA, ".model_commitment");
        string memory b = vm.readFile(string.concat(DIR, "proof-b.json"));
        proofB = vm.parseJsonBytes(b, ".proof");
        instancesB = vm.parseJsonUintArray(b, ".instances");
        commitmentB = vm.parseJsonBytes32(b, ".model_commitment");

        address deployed = _deployGeneratedVerifier(string.concat(DIR, "Halo2Verifier.hex"));
        halo2Verifier = deployed;
        // As a deployer would: the instance count and proof length from gen-verifier's report.
        string memory report = vm.readFile(string.concat(DIR, "verifier.json"));
        adapter = new Halo2VerifierAdapter(
            deployed, vm.parseJsonUint(report, ".instances"), vm.parseJsonUint(report, ".proofBytes")
        );

        registry = new ZkmlModelRegistry();
        modelLayout = _publicLayout(artifactA, ".layout");
        modelId = _registerModel(commitmentA);
    }

    function _registerModel(bytes32 commitment) internal returns (uint256) {
        return registry.registerModel(
            ModelConfig({
                verifier: IZkmlVerifier(address(adapter)),
                commitment: commitment,
                verifyGasLimit: VERIFY_GAS_LIMIT,
                publicLayout: modelLayout
            })
        );
    }

    function _rawVerify(bytes memory calldata_) internal view returns (bool ok) {
        (ok,) = halo2Verifier.staticcall{gas: VERIFY_GAS_LIMIT}(calldata_);
    }

    /// @dev The inference's values as a consumer has them: decoded from the proof's own instances by the
    ///      artifact's layout.
    function _values(uint256[] memory instances) internal view returns (InferenceValues memory) {
        return _inferenceValues(artifactA, ".layout", instances);
    }

    /// @dev The fixture is what it claims: one inference (same input instances) under two commitments.
    function test_FixtureIsOneInferenceUnderTwoCommitments() public view {
        assertTrue(commitmentA != commitmentB, "the two models have one commitment");
        assertEq(instancesA[0], uint256(commitmentA));
        assertEq(instancesB[0], uint256(commitmentB));
        assertEq(instancesA.length, instancesB.length);
        // The input section (after the commitment) is one input; the outputs differ with the weights.
        assertEq(vm.parseJsonString(artifactA, ".layout.sections[1].kind"), "inputs");
        uint256 inputElements = vm.parseJsonUint(artifactA, ".layout.sections[1].elements");
        for (uint256 i = 1; i <= inputElements; ++i) {
            assertEq(instancesA[i], instancesB[i], "the two proofs are of different inputs");
        }
        assertEq(proofA.length, proofB.length, "proofs of one circuit have one length");
        assertEq(proofA.length, adapter.PROOF_LENGTH(), "gen-verifier reported another proof length");
    }

    /// @dev The artifact's layout, as registered: committed weights put the commitment at instance 0, and the
    ///      registry counts as many instances as the prover and gen-verifier do.
    function test_RegisteredLayoutIsTheArtifacts() public view {
        assertEq(uint8(modelLayout.weights), uint8(WeightVisibility.Committed));
        assertEq(vm.parseJsonString(artifactA, ".layout.sections[0].kind"), "model_commitment");
        assertEq(vm.parseJsonUint(artifactA, ".layout.sections[0].offset"), 0);
        assertEq(registry.numInstances(modelId), vm.parseJsonUint(artifactA, ".layout.num_instances"));
        assertEq(registry.numInstances(modelId), adapter.NUM_INSTANCES());
        assertEq(modelLayout.outputScale, vm.parseJsonUint(artifactA, ".layout.sections[2].scales[0]"));
    }

    /// @dev The registry packs the proof's exact instances from the inference's values and the registered
    ///      commitment: the outputs are the prover's quantized outputs.
    function test_InferenceInstancesAreTheProofsInstances() public view {
        InferenceValues memory values = _values(instancesA);
        assertEq(values.outputs, vm.parseJsonIntArray(artifactA, ".outputs_quantized"));
        assertEq(registry.inferenceInstances(modelId, values), instancesA);
    }

    function test_ModelAProofIsAccepted() public {
        assertTrue(_rawVerify(abi.encodePacked(instancesA, proofA)));
        assertTrue(adapter.verifyProof(proofA, instancesA));
        assertTrue(registry.isValidProof(modelId, proofA, instancesA));
        registry.requireValidProof(modelId, proofA, instancesA);

        InferenceValues memory values = _values(instancesA);
        uint256 before = gasleft();
        registry.requireValidInference(modelId, proofA, values);
        emit log_named_uint("requireValidInference gas (committed digits MLP)", before - gasleft());
    }

    /// @dev The reason for the registry's commitment check: model A's verifier accepts model B's proof.
    function test_RevertsWhen_ProofIsOfOtherWeights() public {
        assertTrue(_rawVerify(abi.encodePacked(instancesB, proofB)), "the bare verifier rejects B's proof");
        assertTrue(adapter.verifyProof(proofB, instancesB), "the adapter rejects B's proof");

        // Caught at instance 0, before the verifier runs.
        vm.expectCall(address(adapter), abi.encodeCall(IZkmlVerifier.verifyProof, (proofB, instancesB)), 0);
        assertFalse(registry.isValidProof(modelId, proofB, instancesB));
        vm.expectRevert(
            abi.encodeWithSelector(
                IZkmlModelRegistry.ZkmlRegistryCommitmentMismatch.selector, modelId, uint256(commitmentB)
            )
        );
        registry.requireValidProof(modelId, proofB, instancesB);

        // From values, the registry writes A's commitment itself: B's proof does not verify against it.
        InferenceValues memory values = _values(instancesB);
        vm.expectRevert(abi.encodeWithSelector(IZkmlModelRegistry.ZkmlRegistryProofRejected.selector, modelId));
        registry.requireValidInference(modelId, proofB, values);
    }

    /// @dev Registered under its own commitment, B is a model of its own on the same verifier.
    function test_OtherWeightsVerifyUnderTheirOwnModel() public {
        uint256 modelB = _registerModel(commitmentB);
        registry.requireValidInference(modelB, proofB, _values(instancesB));
        assertEq(registry.inferenceInstances(modelB, _values(instancesB)), instancesB);
        InferenceValues memory valuesA = _values(instancesA);
        vm.expectRevert(abi.encodeWithSelector(IZkmlModelRegistry.ZkmlRegistryProofRejected.selector, modelB));
        registry.requireValidInference(modelB, proofA, valuesA);
    }

    /// @dev Claiming A's commitment for B's proof does not help: the proof binds its instances.
    function test_RevertsWhen_OtherWeightsClaimTheRegisteredCommitment() public {
        uint256[] memory forged = _copy(instancesB);
        forged[0] = uint256(commitmentA);
        assertFalse(_rawVerify(abi.encodePacked(forged, proofB)));
        assertFalse(registry.isValidProof(modelId, proofB, forged));
        vm.expectRevert(abi.encodeWithSelector(IZkmlModelRegistry.ZkmlRegistryProofRejected.selector, modelId));
        registry.requireValidProof(modelId, proofB, forged);
    }

    function test_RevertsWhen_ProofTampered() public {
        for (uint256 i = 0; i < proofA.length; i += 131) {
            bytes memory tampered = bytes.concat(proofA);
            tampered[i] ^= 0x01;
            assertFalse(registry.isValidProof(modelId, tampered, instancesA), "a proof with one flipped bit verified");
        }
        bytes memory last = bytes.concat(proofA);
        last[last.length - 1] ^= 0x01;
        vm.expectRevert(abi.encodeWithSelector(IZkmlModelRegistry.ZkmlRegistryProofRejected.selector, modelId));
        registry.requireValidProof(modelId, last, instancesA);
        InferenceValues memory values = _values(instancesA);
        vm.expectRevert(abi.encodeWithSelector(IZkmlModelRegistry.ZkmlRegistryProofRejected.selector, modelId));
        registry.requireValidInference(modelId, last, values);
    }

    /// @dev One input or output value off by one, still inside its slot: the real proof rejects it.
    function test_RevertsWhen_ValueTampered() public {
        InferenceValues memory values = _values(instancesA);
        int256[][2] memory sections = [values.inputs, values.outputs];
        for (uint256 s = 0; s < 2; ++s) {
            for (uint256 i = 0; i < sections[s].length; i += 7) {
                int256 original = sections[s][i];
                // Toward zero, so the value stays inside its slot.
                sections[s][i] += original < 0 ? int256(1) : -1;
                vm.expectRevert(abi.encodeWithSelector(IZkmlModelRegistry.ZkmlRegistryProofRejected.selector, modelId));
                registry.requireValidInference(modelId, proofA, values);
                sections[s][i] = original;
            }
        }
        registry.requireValidInference(modelId, proofA, values);
    }

    /// @dev A value outside its slot cannot be in any proof: refused by name before the verifier runs.
    function test_RevertsWhen_ValueOutsideItsSlot() public {
        InferenceValues memory values = _values(instancesA);
        uint256 width = vm.parseJsonUint(artifactA, ".layout.sections[2].width");
        int256 tooLarge = int256(uint256(1) << (width - 1));
        values.outputs[3] = tooLarge;
        vm.expectCall(address(adapter), abi.encodeWithSelector(IZkmlVerifier.verifyProof.selector), 0);
        vm.expectRevert(abi.encodeWithSelector(ZkmlInstances.ZkmlInstancesValueOutOfRange.selector, 3, tooLarge, width));
        registry.requireValidInference(modelId, proofA, values);
    }

    /// @dev A caller that leaves too little gas for the verifier must not get a rejection of a valid proof. The
    ///      adapter catches the generated verifier's out-of-gas failure and returns `false` normally, so no
    ///      check after the call could tell starvation from rejection: the registry refuses to call at all.
    function test_RevertsWhen_CallerStarvesTheRealVerifier() public {
        // About 450k would reach the adapter: under the ~580k the real verifier needs, far under the 1M limit.
        (bool ok, bytes memory ret) =
            address(registry).call{gas: 460_000}(abi.encodeCall(registry.isValidProof, (modelId, proofA, instancesA)));
        assertFalse(ok, "a starved verifier was called");
        assertEq(
            ret,
            abi.encodeWithSelector(
                IZkmlModelRegistry.ZkmlRegistryInsufficientGas.selector, address(adapter), VERIFY_GAS_LIMIT
            )
        );
    }

    /// @dev The other side of the starvation check: a caller that brings the verifier's limit and the 1/64
    ///      that EIP-150 keeps back gets the valid proof accepted, so the check does not ask for more than that.
    function test_ValidProofAcceptedWithTheLimitAndItsSixtyFourth() public {
        uint256 enough = VERIFY_GAS_LIMIT + VERIFY_GAS_LIMIT / 63 + 60_000;
        (bool ok, bytes memory ret) =
            address(registry).call{gas: enough}(abi.encodeCall(registry.isValidProof, (modelId, proofA, instancesA)));
        assertTrue(ok, "the registry asked for more gas than the limit and its 64th");
        assertTrue(abi.decode(ret, (bool)));
    }

    /// @dev The generated verifier ignores calldata after the proof, so appended bytes would make a second
    ///      encoding of one proof; the adapter pins the length.
    function test_TrailingBytesRejectedByTheAdapterOnly() public {
        bytes memory padded = bytes.concat(proofA, bytes32(uint256(1)));
        assertTrue(
            _rawVerify(abi.encodePacked(instancesA, padded)),
            "the generated verifier no longer ignores trailing calldata: update the adapter's docs"
        );
        assertFalse(adapter.verifyProof(padded, instancesA));
        assertFalse(adapter.verifyProof(bytes.concat(proofA, hex"00"), instancesA));
        assertFalse(registry.isValidProof(modelId, padded, instancesA));
        vm.expectRevert(abi.encodeWithSelector(IZkmlModelRegistry.ZkmlRegistryProofRejected.selector, modelId));
        registry.requireValidProof(modelId, padded, instancesA);
    }

    function test_TruncatedProofRejected() public view {
        bytes memory truncated = new bytes(proofA.length - 32);
        for (uint256 i = 0; i < truncated.length; ++i) {
            truncated[i] = proofA[i];
        }
        assertFalse(adapter.verifyProof(truncated, instancesA));
    }

    function test_RevertsWhen_AdapterHasNoProofLength() public {
        vm.expectRevert(Halo2VerifierAdapter.Halo2VerifierAdapterNoProofLength.selector);
        new Halo2VerifierAdapter(halo2Verifier, instancesA.length, 0);
    }

    /// @dev A verifier built from the development SRS says so, in its source and in gen-verifier's report.
    function test_DevelopmentSrsIsMarked() public view {
        string memory report = vm.readFile(string.concat(DIR, "verifier.json"));
        assertTrue(vm.parseJsonBool(report, ".unsafeSrs"));
        string memory source = vm.readFile(string.concat(DIR, "Halo2Verifier.sol.txt"));
        assertTrue(vm.indexOf(source, "bool internal constant UNSAFE_DEV_SRS = true;") != type(uint256).max);
    }

    function _copy(uint256[] memory values) internal pure returns (uint256[] memory copy) {
        copy = new uint256[](values.length);
        for (uint256 i = 0; i < values.length; ++i) {
            copy[i] = values[i];
        }
    }
}
