// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.24;

import {CommonBase} from "forge-std/Base.sol";

import {
    InferenceValues,
    InputVisibility,
    OutputVisibility,
    PublicLayout,
    WeightVisibility
} from "../../contracts/interfaces/IZkmlModelRegistry.sol";
import {ZkmlInstances} from "../../contracts/libraries/ZkmlInstances.sol";

/// @notice Reads the artifacts `zkml-eth prove`, `aggregate` and `gen-verifier` write (test/fixtures, made by
///         `make fixtures`): a model's public layout as the registry takes it, an inference's values, and the
///         generated verifier's creation code. Shared by the forge tests and script/Deploy.s.sol.
abstract contract ZkmlArtifacts is CommonBase {
    /// @dev Deploys the creation bytecode stored as hex in `path` (solcjs cannot compile a generated
    ///      verifier with forge's optimizer, so it is kept compiled); reverts if the creation fails.
    function _deployGeneratedVerifier(string memory path) internal returns (address deployed) {
        bytes memory code = vm.parseBytes(vm.trim(vm.readFile(path)));
        assembly ("memory-safe") {
            deployed := create(0, add(code, 0x20), mload(code))
        }
        require(deployed != address(0), "the generated verifier did not deploy");
    }

    /// @dev The layout at `path` (a proof's `.layout`, or an aggregated proof's `.inner[i].layout`).
    function _publicLayout(string memory json, string memory path) internal view returns (PublicLayout memory l) {
        string memory visibility = string.concat(path, ".visibility");
        l.weights = _eq(vm.parseJsonString(json, string.concat(visibility, ".weights")), "committed")
            ? WeightVisibility.Committed
            : WeightVisibility.Fixed;
        string memory input = vm.parseJsonString(json, string.concat(visibility, ".input"));
        l.input = _eq(input, "public")
            ? InputVisibility.Public
            : (_eq(input, "hashed") ? InputVisibility.Hashed : InputVisibility.Private);
        l.output = _eq(vm.parseJsonString(json, string.concat(visibility, ".output")), "hashed")
            ? OutputVisibility.Hashed
            : OutputVisibility.Public;
        for (uint256 i = 0; vm.keyExistsJson(json, _sectionPath(path, i)); ++i) {
            string memory section = _sectionPath(path, i);
            string memory kind = vm.parseJsonString(json, string.concat(section, ".kind"));
            // Layout fields are small by construction (widths <= 252, scales <= 64, counts < 2^16).
            uint8 width = uint8(vm.parseJsonUint(json, string.concat(section, ".width")));
            uint16 count = uint16(vm.parseJsonUint(json, string.concat(section, ".values")));
            uint8 scale = count == 0 ? 0 : uint8(vm.parseJsonUint(json, string.concat(section, ".scales[0]")));
            if (_eq(kind, "inputs") || _eq(kind, "inputs_hash")) {
                (l.inputWidth, l.inputCount, l.inputScale) = (width, count, scale);
            } else if (_eq(kind, "outputs") || _eq(kind, "outputs_hash")) {
                (l.outputWidth, l.outputCount, l.outputScale) = (width, count, scale);
            }
        }
    }

    /// @dev An inference's public values, decoded from its own instances with its layout (public sections).
    function _inferenceValues(string memory json, string memory layoutPath, uint256[] memory words)
        internal
        view
        returns (InferenceValues memory values)
    {
        for (uint256 i = 0; vm.keyExistsJson(json, _sectionPath(layoutPath, i)); ++i) {
            string memory section = _sectionPath(layoutPath, i);
            string memory kind = vm.parseJsonString(json, string.concat(section, ".kind"));
            if (!_eq(kind, "inputs") && !_eq(kind, "outputs")) continue;
            int256[] memory decoded = ZkmlInstances.unpack(
                words,
                vm.parseJsonUint(json, string.concat(section, ".offset")),
                vm.parseJsonUint(json, string.concat(section, ".values")),
                vm.parseJsonUint(json, string.concat(section, ".width"))
            );
            if (_eq(kind, "inputs")) values.inputs = decoded;
            else values.outputs = decoded;
        }
    }

    /// @dev The first 12 instances of an aggregated proof.
    function _accumulator(uint256[] memory words) internal pure returns (uint256[12] memory limbs) {
        for (uint256 i = 0; i < ZkmlInstances.ACCUMULATOR_LIMBS; ++i) {
            limbs[i] = words[i];
        }
    }

    function _sectionPath(string memory layoutPath, uint256 i) private pure returns (string memory) {
        return string.concat(layoutPath, ".sections[", vm.toString(i), "]");
    }

    function _eq(string memory a, string memory b) private pure returns (bool) {
        return keccak256(bytes(a)) == keccak256(bytes(b));
    }
}
