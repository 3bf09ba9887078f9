// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.24;

import {Test} from "forge-std/Test.sol";

/// @notice Base for tests of a real verifier made by `zkml-eth gen-verifier --bytecode`: fixtures keep the
///         creation bytecode as hex (solcjs cannot compile a verifier this size with forge's optimizer), so
///         tests deploy it as it is.
abstract contract GeneratedVerifierTest is Test {
    /// @dev Deploys the creation bytecode stored as hex in `path`; fails the test if the creation fails.
    function _deployGeneratedVerifier(string memory path) internal returns (address deployed) {
        bytes memory code = vm.parseBytes(vm.trim(vm.readFile(path)));
        assembly ("memory-safe") {
            deployed := create(0, add(code, 0x20), mload(code))
        }
        require(deployed != address(0), "the generated verifier did not deploy");
    }
}
