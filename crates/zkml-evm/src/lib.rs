//! zkml-evm: Solidity verifier generation for single and aggregated proofs, calldata encoding, and local
//! execution in revm (the version snark-verifier executes with) to measure gas and runtime size.
