// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.24;

import {Test} from "forge-std/Test.sol";

import {ZkmlArtifacts} from "./ZkmlArtifacts.sol";

/// @notice Base of the tests that run real artifacts (`ZkmlArtifacts`) under forge-std's `Test`.
abstract contract ZkmlFixtures is Test, ZkmlArtifacts {
    /// @dev Calls `target` with at most `gasCap` gas and asserts that it reverts with exactly `expected`. A
    ///      rejection must be the right one and cost a bounded amount: a tampered proof must not let its
    ///      submitter burn a relayer's or a keeper's gas.
    function _assertRevertsWithin(address target, bytes memory callData, uint256 gasCap, bytes memory expected)
        internal
    {
        (bool ok, bytes memory ret) = target.call{gas: gasCap}(callData);
        assertFalse(ok, "the call did not revert");
        assertEq(ret, expected, "the call reverted with another error, or ran out of its gas cap");
    }
}
