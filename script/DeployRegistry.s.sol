// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.24;

import {Script, console} from "forge-std/Script.sol";
import {ZkmlModelRegistry} from "../contracts/ZkmlModelRegistry.sol";

/// @notice Deploys the model registry.
/// @dev forge script script/DeployRegistry.s.sol --rpc-url $ETH_RPC_URL --private-key $KEY --broadcast
contract DeployRegistry is Script {
    /// @notice Deploys a fresh registry with the broadcasting account.
    /// @return registry The deployed registry.
    function run() external returns (ZkmlModelRegistry registry) {
        vm.startBroadcast();
        registry = new ZkmlModelRegistry();
        vm.stopBroadcast();
        console.log("ZkmlModelRegistry deployed at", address(registry));
    }
}
