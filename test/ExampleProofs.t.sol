// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.24;

import {GeneratedVerifierTest} from "./utils/GeneratedVerifierTest.sol";

import {Halo2VerifierAdapter} from "../contracts/verifiers/Halo2VerifierAdapter.sol";
import {ZkmlInstances} from "../contracts/libraries/ZkmlInstances.sol";

/// @notice REAL proofs of the example models (examples/eth-price, examples/pixel-art) through their REAL
///         generated verifiers, and one REAL aggregated proof mixing both with a digits-MLP proof.
///         Regenerate with `make fixtures` (tools/fixtures/examples.sh); made with the UNSAFE dev SRS.
abstract contract ExampleProofTest is GeneratedVerifierTest {
    /// @dev The gas a consumer forwards to the verifier: a tampered proof may burn all of it.
    uint32 internal constant VERIFY_GAS = 1_500_000;
    /// @dev EIP-170's code size limit, as on mainnet.
    uint256 internal constant MAX_CODE_SIZE = 24_576;

    address internal halo2Verifier;
    Halo2VerifierAdapter internal adapter;
    bytes internal proof;
    uint256[] internal instances;
    string internal artifact;

    function _load(string memory dir, string memory artifactFile) internal {
        artifact = vm.readFile(string.concat(dir, artifactFile));
        proof = vm.parseJsonBytes(artifact, ".proof");
        instances = vm.parseJsonUintArray(artifact, ".instances");
        halo2Verifier = _deployGeneratedVerifier(string.concat(dir, "Halo2Verifier.hex"));
        adapter = new Halo2VerifierAdapter(halo2Verifier, instances.length, proof.length);
    }

    function _verify(bytes memory proof_, uint256[] memory instances_) internal view returns (bool) {
        try adapter.verifyProof{gas: VERIFY_GAS}(proof_, instances_) returns (bool valid) {
            return valid;
        } catch {
            return false;
        }
    }

    /// @dev The values of section `index` of `layoutPath`'s layout (an input or output section).
    function _section(string memory json, string memory layoutPath, uint256 index, uint256[] memory words)
        internal
        pure
        returns (int256[] memory)
    {
        string memory section = string.concat(layoutPath, ".sections[", vm.toString(index), "]");
        return ZkmlInstances.unpack(
            words,
            vm.parseJsonUint(json, string.concat(section, ".offset")),
            vm.parseJsonUint(json, string.concat(section, ".values")),
            vm.parseJsonUint(json, string.concat(section, ".width"))
        );
    }

    function _copy(uint256[] memory values) internal pure returns (uint256[] memory copy) {
        copy = new uint256[](values.length);
        for (uint256 i = 0; i < values.length; ++i) {
            copy[i] = values[i];
        }
    }

    function test_RealProofVerifiesUnderEip170() public view {
        assertTrue(_verify(proof, instances));
        assertLe(halo2Verifier.code.length, MAX_CODE_SIZE);
    }

    function test_TamperedProofRejected() public view {
        for (uint256 i = 0; i < proof.length; i += 331) {
            bytes memory tampered = bytes.concat(proof);
            tampered[i] = bytes1(uint8(tampered[i]) ^ 0x01);
            assertFalse(_verify(tampered, instances), "a proof with one flipped bit verified");
        }
    }

    function test_TamperedInstanceRejected() public view {
        for (uint256 i = 0; i < instances.length; ++i) {
            uint256[] memory tampered = _copy(instances);
            tampered[i] ^= 1;
            assertFalse(_verify(proof, tampered), "a tampered instance verified");
        }
    }
}

/// @notice The eth-price model on a window of its feed: the proof's public inputs are the features
///         `zkml-eth input feed` computed (docs/encodings.md), the values the vault will recompute.
contract EthPriceProofTest is ExampleProofTest {
    string internal constant DIR = "test/fixtures/eth-price/";

    function setUp() public {
        _load(DIR, "proof.json");
    }

    function test_PublicInputsAreTheFeedFeatures() public view {
        int256[] memory inputs = _section(artifact, ".layout", 0, instances);
        int256[] memory expected = vm.parseJsonIntArray(vm.readFile(string.concat(DIR, "input.json")), ".quantized[0]");
        assertEq(inputs.length, 12);
        assertEq(inputs, expected);
        assertEq(_section(artifact, ".layout", 1, instances), vm.parseJsonIntArray(artifact, ".outputs_quantized"));
    }
}

/// @notice The pixel-art generator on a prompt: its public inputs are the prompt's encoding and its outputs
///         are what the rendered aigcData carries.
contract PixelArtProofTest is ExampleProofTest {
    string internal constant DIR = "test/fixtures/pixel-art/";
    /// @dev Bytes per output value in aigcData (a big-endian int32).
    uint256 internal constant AIGC_WORD_BYTES = 4;

    function setUp() public {
        _load(DIR, "proof.json");
    }

    function test_PublicValuesAreThePromptAndTheAigcData() public view {
        int256[] memory inputs = _section(artifact, ".layout", 0, instances);
        int256[] memory expected = vm.parseJsonIntArray(vm.readFile(string.concat(DIR, "input.json")), ".quantized[0]");
        assertEq(inputs, expected);

        int256[] memory outputs = _section(artifact, ".layout", 1, instances);
        bytes memory aigcData = vm.parseJsonBytes(vm.readFile(string.concat(DIR, "render.json")), ".aigcData");
        assertEq(aigcData.length, outputs.length * AIGC_WORD_BYTES);
        for (uint256 i = 0; i < outputs.length; ++i) {
            uint32 word;
            for (uint256 b = 0; b < AIGC_WORD_BYTES; ++b) {
                word = (word << 8) | uint8(aigcData[i * AIGC_WORD_BYTES + b]);
            }
            // The word is a two's-complement int32: reinterpreting its 32 bits is the decoding itself.
            // forge-lint: disable-next-line(unsafe-typecast)
            assertEq(outputs[i], int256(int32(word)));
        }
    }
}

/// @notice One aggregated proof of three models (eth-price, pixel-art, digits MLP): each inner proof's
///         instances follow the 12 accumulator limbs, in order, and decode to that proof's outputs.
contract MixedAggregatedProofTest is ExampleProofTest {
    string internal constant DIR = "test/fixtures/mixed/";

    function setUp() public {
        _load(DIR, "aggregated.json");
    }

    function test_EachInnerProofsInstancesFollowTheAccumulator() public view {
        string[3] memory inner = ["p-eth-price.json", "p-pixel-art.json", "p-digits.json"];
        uint256 offset = ZkmlInstances.ACCUMULATOR_LIMBS;
        for (uint256 p = 0; p < inner.length; ++p) {
            string memory entry = string.concat(".inner[", vm.toString(p), "]");
            assertEq(vm.parseJsonUint(artifact, string.concat(entry, ".offset")), offset);
            string memory own = vm.readFile(string.concat(DIR, inner[p]));
            uint256[] memory words = vm.parseJsonUintArray(own, ".instances");
            assertEq(ZkmlInstances.slice(instances, offset, words.length), words);
            assertEq(_section(own, ".layout", 1, words), vm.parseJsonIntArray(own, ".outputs_quantized"));
            offset += words.length;
        }
        assertEq(offset, instances.length);
    }
}
