// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.24;

import {IZkmlVerifier} from "../interfaces/IZkmlVerifier.sol";

/// @title MockZkmlVerifier
/// @notice A test double for contract logic: it accepts exactly the "proof" `mockProof(instances)`, the
///         keccak256 hash of the instances. Changing any instance or any proof byte makes it reject, so
///         tests of consumers keep their tampered-proof cases. Never register it on a real chain: anyone can
///         make a mock proof for any instances.
contract MockZkmlVerifier is IZkmlVerifier {
    /// @notice The only proof this verifier accepts for `instances`.
    /// @param instances The public instances.
    /// @return proof The 32-byte mock proof.
    function mockProof(uint256[] calldata instances) external pure returns (bytes memory proof) {
        return abi.encodePacked(keccak256(abi.encode(instances)));
    }

    /// @inheritdoc IZkmlVerifier
    function verifyProof(bytes calldata proof, uint256[] calldata instances) external pure returns (bool valid) {
        return keccak256(proof) == keccak256(abi.encodePacked(keccak256(abi.encode(instances))));
    }
}
