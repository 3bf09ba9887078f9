// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.24;

import {IZkmlVerifier} from "../../contracts/interfaces/IZkmlVerifier.sol";

/// @notice Burns every unit of gas it is given, as a halo2 verifier does on some tampered proofs.
contract GasBurningVerifier is IZkmlVerifier {
    /// @inheritdoc IZkmlVerifier
    function verifyProof(bytes calldata, uint256[] calldata) external pure returns (bool) {
        assembly {
            invalid()
        }
    }
}

/// @notice Reverts with a reason, as generated verifiers do on a failed check.
contract RevertingVerifier is IZkmlVerifier {
    error Rejected();

    /// @inheritdoc IZkmlVerifier
    function verifyProof(bytes calldata, uint256[] calldata) external pure returns (bool) {
        revert Rejected();
    }
}

/// @notice Returns a fixed raw payload instead of an ABI bool.
contract RawReturnVerifier {
    bytes private _payload;

    constructor(bytes memory payload) {
        _payload = payload;
    }

    fallback() external {
        bytes memory payload = _payload;
        assembly {
            return(add(payload, 0x20), mload(payload))
        }
    }
}

/// @notice Returns `true` only while enough gas is left to do `work` rounds of hashing, so a test can tell
///         whether the registry gave it its full gas limit.
contract GasHungryVerifier is IZkmlVerifier {
    uint256 private immutable _work;

    constructor(uint256 work) {
        _work = work;
    }

    /// @inheritdoc IZkmlVerifier
    function verifyProof(bytes calldata proof, uint256[] calldata) external view returns (bool) {
        bytes32 h = keccak256(proof);
        uint256 work = _work;
        // Hash in scratch space so each round costs the same (~100 gas) and memory does not grow.
        assembly {
            mstore(0x00, h)
            for { let i := 0 } lt(i, work) { i := add(i, 1) } {
                mstore(0x20, i)
                mstore(0x00, keccak256(0x00, 0x40))
            }
            h := mload(0x00)
        }
        return h != bytes32(0) || gasleft() > 0;
    }
}
