// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.24;

/// @title IZkmlVerifier
/// @notice The one call convention of every zkml-eth proof verifier, generated or hand-written: the
///         snark-verifier / EZKL `verifyProof(bytes,uint256[])` shape.
/// @dev A verifier must return `true` only for a valid proof of `instances`. It may revert or return
///      `false` for an invalid one; callers treat both, and any malformed return data, as a rejection.
///      A tampered halo2 proof can consume all gas forwarded to the verifier, so callers cap the gas.
interface IZkmlVerifier {
    /// @notice Checks a proof against its public instances.
    /// @param proof The serialized proof bytes, as written by the prover.
    /// @param instances The public instances, one BN254 scalar field element per word, in the layout
    ///        documented by the circuit that produced the proof.
    /// @return valid True when the proof is valid for these instances.
    function verifyProof(bytes calldata proof, uint256[] calldata instances) external view returns (bool valid);
}
