// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.24;

import {Test} from "forge-std/Test.sol";

import {ZkmlArtifacts} from "./ZkmlArtifacts.sol";

/// @notice Base of the tests that run real artifacts (`ZkmlArtifacts`) under forge-std's `Test`.
abstract contract ZkmlFixtures is Test, ZkmlArtifacts {}
