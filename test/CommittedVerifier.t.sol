// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.24;

import {GeneratedVerifierTest} from "./utils/GeneratedVerifierTest.sol";

import {ZkmlModelRegistry} from "../contracts/ZkmlModelRegistry.sol";
import {IZkmlModelRegistry, ModelConfig} from "../contracts/interfaces/IZkmlModelRegistry.sol";
import {IZkmlVerifier} from "../contracts/interfaces/IZkmlVerifier.sol";
import {Halo2VerifierAdapter} from "../contracts/verifiers/Halo2VerifierAdapter.sol";

/// @notice REAL proofs with committed weights (`setup --weights committed`) through the REAL generated
///         verifier behind the adapter and the registry. Model A is the digits MLP; model B has other weights
///         but the same circuit, so one verifier (byte for byte) serves both: the verifying key does not pin
///         committed weights, and only the registry's check of the commitment instance tells B's proof from
///         A's. Regenerate the fixture with `make fixtures` (tools/fixtures/committed.sh); it is made with the
///         UNSAFE dev SRS.
contract CommittedVerifierTest is GeneratedVerifierTest {
    string internal constant DIR = "test/fixtures/committed/";
    /// @dev Where the commitment sits in a single proof's instances with committed weights.
    uint16 internal constant COMMITMENT_INDEX = 0;
    /// @dev The verifier's gas cap in the registry: a committed-weights digits proof verifies for about 580k.
    uint32 internal constant VERIFY_GAS_LIMIT = 1_000_000;
    uint8 internal constant SCALE = 12;

    address internal halo2Verifier;
    Halo2VerifierAdapter internal adapter;
    ZkmlModelRegistry internal registry;
    uint256 internal modelId;

    bytes internal proofA;
    uint256[] internal instancesA;
    bytes32 internal commitmentA;
    bytes internal proofB;
    uint256[] internal instancesB;
    bytes32 internal commitmentB;

    function setUp() public {
        string memory a = vm.readFile(string.concat(DIR, "proof-a.json"));
        proofA = vm.parseJsonBytes(a, ".proof");
        instancesA = vm.parseJsonUintArray(a, ".instances");
        commitmentA = vm.parseJsonBytes32(a, ".model_commitment");
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
        uint16[] memory indices = new uint16[](1);
        indices[0] = COMMITMENT_INDEX;
        modelId = registry.registerModel(
            ModelConfig({
                verifier: IZkmlVerifier(address(adapter)),
                commitment: commitmentA,
                inputScale: SCALE,
                outputScale: SCALE,
                verifyGasLimit: VERIFY_GAS_LIMIT,
                commitmentIndices: indices
            })
        );
    }

    function _rawVerify(bytes memory calldata_) internal view returns (bool ok) {
        (ok,) = halo2Verifier.staticcall{gas: VERIFY_GAS_LIMIT}(calldata_);
    }

    /// @dev The fixture is what it claims: one inference (same input instances) under two commitments.
    function test_FixtureIsOneInferenceUnderTwoCommitments() public view {
        assertTrue(commitmentA != commitmentB, "the two models have one commitment");
        assertEq(instancesA[COMMITMENT_INDEX], uint256(commitmentA));
        assertEq(instancesB[COMMITMENT_INDEX], uint256(commitmentB));
        assertEq(instancesA.length, instancesB.length);
        assertEq(proofA.length, proofB.length, "proofs of one circuit have one length");
        assertEq(proofA.length, adapter.PROOF_LENGTH(), "gen-verifier reported another proof length");
    }

    function test_ModelAProofIsAccepted() public view {
        assertTrue(_rawVerify(abi.encodePacked(instancesA, proofA)));
        assertTrue(adapter.verifyProof(proofA, instancesA));
        assertTrue(registry.isValidProof(modelId, proofA, instancesA));
        registry.requireValidProof(modelId, proofA, instancesA);
    }

    /// @dev The reason for the registry's commitment check: model A's verifier accepts model B's proof.
    function test_RevertsWhen_ProofIsOfOtherWeights() public {
        assertTrue(_rawVerify(abi.encodePacked(instancesB, proofB)), "the bare verifier rejects B's proof");
        assertTrue(adapter.verifyProof(proofB, instancesB), "the adapter rejects B's proof");

        assertFalse(registry.isValidProof(modelId, proofB, instancesB));
        vm.expectRevert(
            abi.encodeWithSelector(
                IZkmlModelRegistry.ZkmlRegistryCommitmentMismatch.selector,
                modelId,
                COMMITMENT_INDEX,
                uint256(commitmentB)
            )
        );
        registry.requireValidProof(modelId, proofB, instancesB);
    }

    /// @dev Claiming A's commitment for B's proof does not help: the proof binds its instances.
    function test_RevertsWhen_OtherWeightsClaimTheRegisteredCommitment() public {
        uint256[] memory forged = _copy(instancesB);
        forged[COMMITMENT_INDEX] = uint256(commitmentA);
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
